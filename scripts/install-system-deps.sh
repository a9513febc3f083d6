#!/usr/bin/env bash
# Installs what the engine needs from the system on a Debian-family machine without a GPU:
# Mesa's lavapipe Vulkan driver, version 23 or newer (Dawn needs it; Debian 12 ships Mesa 22
# and has Mesa 25 in bookworm-backports), and with --browser Debian's Chromium for the
# browser tests. Idempotent: it installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_install() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

installed_mesa() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0; }
lavapipe_ready() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && dpkg --compare-versions "$(installed_mesa)" ge 23
}

if ! lavapipe_ready; then
  $SUDO apt-get update -qq
  candidate="$(apt-cache policy mesa-vulkan-drivers | awk '/Candidate:/ { print $2 }')"
  if dpkg --compare-versions "${candidate:-0}" ge 23; then
    apt_install mesa-vulkan-drivers libvulkan1
  else
    # Debian 12: add bookworm-backports by copying the machine's own Debian source and
    # changing only its suite, so no mirror is written here.
    if ! grep -qs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/*; then
      if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        awk 'BEGIN { RS = ""; ORS = "\n\n" } /Suites:[^\n]*bookworm( |\n|$)/ { sub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; exit }' \
          /etc/apt/sources.list.d/debian.sources | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
      else
        grep -m1 -E '^deb .* bookworm main' /etc/apt/sources.list | sed 's/ bookworm / bookworm-backports /' |
          $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
      fi
      $SUDO apt-get update -qq
    fi
    apt_install -t bookworm-backports mesa-vulkan-drivers libvulkan1
  fi
  lavapipe_ready || { echo "error: Mesa >= 23 (lavapipe) is still not installed: $(installed_mesa)" >&2; exit 1; }
fi
echo "lavapipe: mesa-vulkan-drivers $(installed_mesa)"

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  # Debian's Chromium runs WebGPU on its bundled SwiftShader; never a downloaded browser build.
  $SUDO apt-get update -qq
  apt_install chromium
fi
