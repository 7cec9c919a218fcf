#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages liblocalai needs to build and test, if missing.
set -euo pipefail
packages=(
  gcc g++ meson ninja-build pkg-config          # build
  libvulkan-dev libvulkan-volk-dev glslc        # Vulkan headers, volk loader, shader compiler
  mesa-vulkan-drivers vulkan-validationlayers   # a software Vulkan device (lavapipe), validation in tests
  libstb-dev                                    # stb_ds
  abigail-tools                                 # ABI baseline check (abidw/abidiff)
  unicode-data                                  # source of the tokenizer's Unicode tables
  clang libclang-rt-14-dev                      # libFuzzer + sanitizers
  python3 binutils
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: run as root or install sudo" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
