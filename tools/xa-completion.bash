# bash completion for the xa-* tools: their options, the target prefixes
# (file: qemu: xen: libvirt:, tap: image: for the disk monitor) and files.
# Installed once per command name in share/bash-completion/completions.

_xa_options() {
    # Each tool lists its own options in --help: one source of truth.
    "$1" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u
}

_xa_complete() {
    local cur prev tool line before
    COMPREPLY=()
    # bash splits words at ':' (COMP_WORDBREAKS), which would cut "file:PATH"
    # in two: take the words from the line itself.
    line=${COMP_LINE:0:COMP_POINT}
    cur=${line##*[[:space:]]}
    before=${line%"$cur"}
    before=${before%"${before##*[![:space:]]}"}
    prev=${before##*[[:space:]]}
    tool=${COMP_WORDS[0]}
    _xa_complete_word
    # Give bash back only what follows the last colon, the part it replaces.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon=${cur%"${cur##*:}"}
        COMPREPLY=("${COMPREPLY[@]#"$colon"}")
    fi
}

# Fills COMPREPLY for $cur (whole, colons included), after $prev, for $tool.
_xa_complete_word() {
    case $prev in
        --sysmap|--btf|--socket|--events)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return ;;
        --watch|--dir)
            [ "${tool##*/}" = xa-disk-monitor ] && return ;;  # a path in the guest
    esac
    case $prev in
        --pid|--va|--pa|--len|--count|--watch|--sym|--ring|--node|--mask|--timeout)
            return ;;  # a value only the user knows
        --check)
            COMPREPLY=($(compgen -W "processes modules syscalls idt ftrace kprobes bpf user ops" -- "$cur"))
            return ;;
    esac

    case $cur in
        -*)
            COMPREPLY=($(compgen -W "$(_xa_options "$tool")" -- "$cur"))
            return ;;
        file:*|image:*|tap:*|qemu:*)
            # file:PATH, qemu:QMP_SOCKET...: complete the path after the prefix.
            local prefix=${cur%%:*}: path=${cur#*:} f
            while IFS= read -r f; do
                [ -n "$f" ] || continue
                if [ -d "$f" ]; then
                    f=$f/
                    compopt -o nospace 2>/dev/null
                fi
                COMPREPLY+=("$prefix$f")
            done < <(compgen -f -- "$path")
            return ;;
    esac
    local prefixes="file: qemu: xen: libvirt:"
    [ "${tool##*/}" = xa-disk-monitor ] && prefixes="tap: image:"
    if [ "${tool##*/}" = xa-disk-tap ]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
    fi
    COMPREPLY=($(compgen -W "$prefixes" -- "$cur"))
    [ ${#COMPREPLY[@]} -gt 0 ] && compopt -o nospace 2>/dev/null
}

complete -F _xa_complete xa-info xa-ps xa-sym xa-read xa-modules xa-maps xa-disk-tap xa-disk-monitor
complete -F _xa_complete xa-net xa-dmesg
complete -F _xa_complete xa-files xa-mounts
complete -F _xa_complete xa-check
