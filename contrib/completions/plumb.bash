# bash completion for plumb(1).
# Install: make install (to $(PREFIX)/share/bash-completion/completions/plumb), or source this
# file from ~/.bashrc. Needs nothing from the bash-completion package.
# Keep in step with `plumb <command> --help`: tests/integration/test_contrib.py checks it.

_plumb_commands='validate render plan apply drift run export whoami'

# The options of one command, printed on stdout.
_plumb_options()
{
	case $1 in
	validate) echo '-f --manifests -o --output --help' ;;
	render) echo '-f --manifests --help' ;;
	plan) echo '-f --manifests --state --output -o --out --refresh --cached --adopt --prune
		--no-prune --color --no-color --help' ;;
	apply) echo '-f --manifests --state -y --yes --target --refresh --adopt --prune --no-prune
		--retry-failed --output --color --no-color --help' ;;
	drift) echo '-f --manifests --state --cached --refresh --output -o --out
		--include-unmanaged --color --no-color --help' ;;
	run) echo '-f --manifests --state --mode --resync --full-resync-every --debounce --listen
		--sync-token-file
		--shutdown-timeout --adopt --prune --no-prune --log-format --log-level --help' ;;
	export) echo '--endpoint --all --region -d --dir --state --refresh --cached --force
		--help' ;;
	whoami) echo '--profile --region -o --output --help' ;;
	esac
}

# Profiles named in the AWS shared config and credentials files.
_plumb_profiles()
{
	local f line
	for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" \
		"${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
		[ -r "$f" ] || continue
		while IFS= read -r line; do
			case $line in
			'[profile '*']') line=${line#'[profile '}; echo "${line%']'}" ;;
			'[sso-session '*) ;;
			'['*']') line=${line#'['}; echo "${line%']'}" ;;
			esac
		done <"$f"
	done
}

_plumb_regions='us-east-1 us-east-2 us-west-1 us-west-2 ca-central-1 sa-east-1 eu-west-1
	eu-west-2 eu-west-3 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2
	ap-south-1 ap-south-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-southeast-1
	ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-east-1 me-south-1 me-central-1
	af-south-1 il-central-1 us-gov-west-1 us-gov-east-1 cn-north-1 cn-northwest-1'

_plumb()
{
	local cur prev cmd i w
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--opt=value": bash splits at '=' (COMP_WORDBREAKS), or the word holds it whole.
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi

	# The command: the first word after plumb that is not an option.
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_plumb_commands help" -- "$cur"))
		fi
		return 0
	fi

	# Values of the option before the cursor.
	case $prev in
	-f | --manifests | --state | --sync-token-file | --out)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	-d | --dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	-o)
		# plan and drift: -o FILE; validate and whoami: -o FORMAT.
		case $cmd in
		plan | drift)
			COMPREPLY=($(compgen -f -- "$cur"))
			compopt -o filenames 2>/dev/null
			;;
		*) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
		esac
		return 0
		;;
	--output)
		case $cmd in
		drift) COMPREPLY=($(compgen -W 'text markdown json junit' -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
		esac
		return 0
		;;
	--refresh) COMPREPLY=($(compgen -W 'auto full' -- "$cur")); return 0 ;;
	--mode) COMPREPLY=($(compgen -W 'apply observe' -- "$cur")); return 0 ;;
	--log-format) COMPREPLY=($(compgen -W 'logfmt json' -- "$cur")); return 0 ;;
	--log-level) COMPREPLY=($(compgen -W 'debug info warn error' -- "$cur")); return 0 ;;
	--listen)
		COMPREPLY=($(compgen -W '127.0.0.1:9464 0.0.0.0:9464 127.0.0.1:0 off' -- "$cur"))
		return 0
		;;
	--resync | --debounce | --shutdown-timeout)
		COMPREPLY=($(compgen -W '300ms 1s 30s 1m 5m 15m 1h' -- "$cur"))
		return 0
		;;
	--profile) COMPREPLY=($(compgen -W "$(_plumb_profiles)" -- "$cur")); return 0 ;;
	--region) COMPREPLY=($(compgen -W "$_plumb_regions" -- "$cur")); return 0 ;;
	--target)
		COMPREPLY=($(compgen -W 'Model/ EndpointConfig/ Endpoint/ ScalableTarget/ Alarm/
			Topic/' -- "$cur"))
		compopt -o nospace 2>/dev/null
		return 0
		;;
	--endpoint) return 0 ;;
	--full-resync-every) COMPREPLY=($(compgen -W '1 6 12 24' -- "$cur")); return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_plumb_options "$cmd")" -- "$cur"))
	elif [[ $cmd == apply ]]; then
		# PLANFILE, from plumb plan -o.
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
	fi
	return 0
}

complete -F _plumb plumb
