#!/usr/bin/env bash
# Services the annotation tests start: Redis and Chromium (Debian), and the argilla-server venv.
# Idempotent. The venv lives where `meav annotate serve` looks for it (annotation/server_venv.py):
# $MEAV_ARGILLA_VENV, default ~/.cache/meav/argilla-server-2.8.0 (outside the repo, shared by checkouts).
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
.venv/bin/python -m meav.annotation.server_venv
