#!/usr/bin/env bash
# Did a test run leave files in the checkout?  `make test` calls
#   scripts/check_clean_tree.sh snapshot FILE     before the suite, and
#   scripts/check_clean_tree.sh check FILE        after it: exit 1, listing them, if anything outside the
# documented build/cache folders appeared, disappeared or changed (tracked, untracked or ignored files).
# Allowed to change (all gitignored): .venv/ .cache/ .pytest_cache/, any build/ folder (build/,
# firmware_stm32/build/, firmware_fpga_hls/build/, a make tree's build/), __pycache__/, *.egg-info/.
set -euo pipefail
mode=${1:?usage: check_clean_tree.sh snapshot|check FILE}
file=${2:?usage: check_clean_tree.sh snapshot|check FILE}
top=$(git rev-parse --show-toplevel 2>/dev/null) || { echo "check_clean_tree: not a git checkout, skipped"; exit 0; }
cd "$top"

allowed='^(\.venv|\.cache|\.pytest_cache)(/|$)|(^|/)(build|__pycache__)(/|$)|\.egg-info(/|$)'

state() {
    # every entry git reports (modified, untracked, ignored), outside the allowed folders, with the
    # size and modification time of each file under it (an ignored file that changed shows too)
    git status --porcelain=v1 --ignored --untracked-files=all -z | tr '\0' '\n' | sed -E 's/^(..) //' |
        { grep -Ev "$allowed" || true; } | sort -u | while IFS= read -r path; do
            [ -n "$path" ] || continue
            if [ -e "$path" ]; then
                find "$path" -type f -printf '%p %s %T@\n' 2>/dev/null
            else
                echo "$path (deleted)"
            fi
        done | sort
    # tracked files' content (a test that rewrote a committed file and left it identical is fine)
    git diff --stat HEAD 2>/dev/null | tail -n 1
}

case $mode in
    snapshot)
        mkdir -p "$(dirname "$file")"
        state > "$file" ;;
    check)
        if ! diff -u "$file" <(state) > "$file.diff"; then
            echo "check_clean_tree: the test run left files in the checkout (outside the build/cache folders):"
            grep -E '^[+-][^+-]' "$file.diff" | sed 's/^/  /'
            exit 1
        fi
        echo "check_clean_tree: the checkout is as it was before the tests (build/cache folders aside)" ;;
    *)
        echo "usage: check_clean_tree.sh snapshot|check FILE" >&2; exit 2 ;;
esac
