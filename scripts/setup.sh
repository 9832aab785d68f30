#!/usr/bin/env bash
# Sets up a Debian machine to build and run stillmotion: installs ffmpeg,
# flite and RHVoice (from Debian's non-free section, which it adds; the voices
# fall back to flite without it) and, with --test, what the tests drive: python3-requests, nodejs, and
# PostgreSQL for the distributed mode) when missing, makes sure a Go toolchain
# is there, and builds bin/stillmotion.
set -euo pipefail
cd "$(dirname "$0")/.."

want=(ffmpeg flite)
optional=(rhvoice rhvoice-english)
if [[ "${1:-}" == "--test" ]]; then
  # festival checks RHVoice's phone timings against true ones; pocketsphinx
  # (for the intelligibility benchmark) is installed by that benchmark's notes.
  # chromium (with a font) drives the studio's browser tests.
  want+=(python3-requests nodejs postgresql festival festvox-us-slt-hts chromium fonts-dejavu-core)
fi

missing=()
for pkg in "${want[@]}" "${optional[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  # RHVoice's English voices (LGPL-2.1+) are in Debian's non-free section
  # only because their training data scripts are not shipped.
  if [[ " ${missing[*]} " == *" rhvoice "* ]] && ! grep -rqsE '(^|[[:space:]])non-free([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$codename" "$codename" | $sudo tee /etc/apt/sources.list.d/stillmotion-non-free.sources >/dev/null
  fi
  $sudo apt-get update -qq
  required=()
  for pkg in "${missing[@]}"; do
    [[ " ${optional[*]} " == *" $pkg "* ]] || required+=("$pkg")
  done
  if ((${#required[@]})); then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${required[@]}" >/dev/null
  fi
  # Without RHVoice every voice falls back to its flite voice: a warning, not a failure.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null ||
    echo "setup: warning: could not install ${optional[*]}; the voices fall back to flite" >&2
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
# go.mod's toolchain line names the patch release we build with (security
# fixes): let go fetch it from the module proxy when the one here is older,
# whatever a machine-wide GOTOOLCHAIN=local says.
export GOTOOLCHAIN=auto

# The OpenAI SDK harness (test/openai-node): the pinned openai npm package,
# as locked in its package-lock.json.
# The studio's build and browser tests (web/): Vite, TypeScript,
# playwright-core and axe-core, as locked.
if [[ "${1:-}" == "--test" ]] && command -v npm >/dev/null 2>&1; then
  npm ci --ignore-scripts --no-audit --no-fund --prefix test/openai-node >/dev/null
  npm ci --no-audit --no-fund --prefix web >/dev/null
fi

mkdir -p bin
CGO_ENABLED=0 go build -trimpath -o bin/stillmotion ./cmd/stillmotion
echo "setup: built bin/stillmotion ($(bin/stillmotion version))" >&2
