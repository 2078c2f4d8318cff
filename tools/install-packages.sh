#!/usr/bin/env bash
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
#
# Installs the Debian/Ubuntu packages of bindep.txt that are missing, with
# apt-get (through sudo unless run as root); does nothing when every one
# is present.  For each package it prints why the tests need it (the
# comment above it in bindep.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dpkg-query >/dev/null; then
    echo "install-packages.sh: not a Debian or Ubuntu system (no dpkg);" \
        "install the packages of bindep.txt with the system's own tools" >&2
    exit 1
fi

missing=()
why=""
while IFS= read -r line; do
    case "$line" in
        '#'*) why="$why ${line###}"; continue ;;
        '') why=""; continue ;;
    esac
    package=${line%% *}
    # Entries for dpkg platforms, or for every platform.
    if [[ "$line" == *'['* && "$line" != *platform:dpkg* ]]; then
        continue
    fi
    if dpkg-query -W -f='${Status}' "$package" 2>/dev/null \
            | grep -q 'install ok installed'; then
        echo "present: $package"
    else
        echo "missing: $package --$why"
        missing+=("$package")
    fi
done < bindep.txt

if [ "${#missing[@]}" -eq 0 ]; then
    echo "Every package of bindep.txt is installed."
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "Installing: ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
