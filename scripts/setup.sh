#!/usr/bin/env bash
# Sets up a Debian machine to build and run stillmotion: installs ffmpeg and
# flite (and, with --test, what the tests drive: python3-requests, nodejs, and
# PostgreSQL for the distributed mode) when missing, makes sure a Go toolchain
# is there, and builds bin/stillmotion.
set -euo pipefail
cd "$(dirname "$0")/.."

want=(ffmpeg flite)
if [[ "${1:-}" == "--test" ]]; then
  want+=(python3-requests nodejs postgresql festival festvox-us-slt-hts pocketsphinx pocketsphinx-en-us)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go: the one in PATH, else /usr/local/go; else the toolchain module from the
# Go module proxy (what 'go' itself does for GOTOOLCHAIN=auto).
need=$(awk '/^go /{print $2}' go.mod)
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH=/usr/local/go/bin:$PATH
fi
if ! command -v go >/dev/null 2>&1; then
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%,*}
  ver=go${need}
  [[ $ver == *.*.* ]] || ver=${ver}.0
  echo "setup: fetching the Go toolchain $ver from the module proxy" >&2
  tmp=$(mktemp -d)
  curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-$ver.linux-amd64.zip" -o "$tmp/go.zip"
  (cd "$tmp" && python3 -m zipfile -e go.zip x)
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo rm -rf /usr/local/go
  $sudo mv "$tmp/x/golang.org/toolchain@v0.0.1-$ver.linux-amd64" /usr/local/go
  $sudo chmod +x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/* 2>/dev/null || true
  export PATH=/usr/local/go/bin:$PATH
  rm -rf "$tmp"
fi

mkdir -p bin
CGO_ENABLED=0 go build -trimpath -o bin/stillmotion ./cmd/stillmotion
echo "setup: built bin/stillmotion ($(bin/stillmotion version))" >&2
