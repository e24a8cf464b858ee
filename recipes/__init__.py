"""The recipes that ship with meav (training, synth, demo, accelerate), installed as package data
(`meav.recipes`) so `meav demo` finds them outside a checkout. See recipes/README.md."""
