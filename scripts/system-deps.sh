# Sourced by scripts/test: Debian packages the tests need beyond Python.
# - chromium: headless browser for the tests of pages people read (reports, notice boards)
# - fonts-wqy-microhei: a Chinese font for charts, pages and PDFs
# As root (CI) they are installed when missing; elsewhere the tests that need them skip
# (in CI they fail instead).

famplan_system_deps() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "== not installed (tests that need them will skip): ${missing[*]}"
        return 0
    fi
    echo "== installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
}
