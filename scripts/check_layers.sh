#!/usr/bin/env bash
# The layers, checked on the includes (docs/architecture.md): each folder may include
# its own files, lib/ (lib/... and memstate/...) and the folders listed for it here.
#   lib/     nothing else          bpf/    lib/           export/  lib/
#   tui/     lib/, export/         tracer/ anything (it is the program)
# Prints each include that crosses a layer and exits 1; exits 0 when there is none.
cd "$(dirname "$0")/.." || exit 2
declare -A allowed=([lib]="" [bpf]="" [export]="" [tui]="export")
bad=0
for folder in lib bpf export tui; do
	while IFS=: read -r file line text; do
		inc=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' <<<"$text")
		[ -n "$inc" ] || continue
		case $inc in
		../*) top=$(sed -E 's|^(\.\./)+||; s|/.*||' <<<"$inc") ;;
		*/*) top=${inc%%/*} ;;
		*) continue ;; # a file of the same folder
		esac
		case " lib memstate $folder ${allowed[$folder]} " in
		*" $top "*) ;;
		*)
			echo "$file:$line: $folder/ includes $inc"
			bad=1
			;;
		esac
	done < <(git ls-files "$folder/*.c" "$folder/*.h" | xargs -r grep -nH '#[[:space:]]*include[[:space:]]*"')
done
exit $bad
