"""Local servers that speak real protocols (Hub, Anthropic) for offline tests of the real clients."""
