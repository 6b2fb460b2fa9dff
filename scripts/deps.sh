#!/usr/bin/env bash
# Installs the Debian packages dtcp needs to build, test and benchmark.
# Idempotent: only missing packages are installed.
set -euo pipefail

pkgs=(build-essential meson ninja-build pkg-config libcriterion-dev libsodium-dev
      gnuplot-nox iproute2 fonts-dejavu-core python3 dpdk-dev libdpdk-dev iputils-ping
      liblwip-dev tshark ethtool)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "dtcp: installing ${missing[*]}"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	export DEBIAN_FRONTEND=noninteractive
	# tshark's package asks whether non-root users may capture: no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		$sudo_cmd debconf-set-selections
	$sudo_cmd apt-get update -qq
	$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
