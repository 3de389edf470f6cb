# bash completion for logtriage: subcommands, options, rule ids.
# Installed as /usr/share/bash-completion/completions/logtriage.

_logtriage_rule_ids()
{
	logtriage rules list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_logtriage()
{
	local cur prev words cword cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "analyze report incidents records summary prune rules --help --version" -- "$cur"))
		return 0
	fi
	case $prev in
	--db)
		COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
	--rules)
		COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
	--fail-on)
		COMPREPLY=($(compgen -W "critical error warning info never" -- "$cur")); return 0 ;;
	--format)
		if [[ $cmd == summary ]]; then
			COMPREPLY=($(compgen -W "text md json" -- "$cur"))
		elif [[ $cmd == report ]]; then
			COMPREPLY=($(compgen -W "md json html" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "text json" -- "$cur"))
		fi
		return 0 ;;
	--tz)
		COMPREPLY=($(cd /usr/share/zoneinfo 2>/dev/null && compgen -f -- "$cur")); return 0 ;;
	--charts)
		COMPREPLY=($(compgen -W "png svg none" -- "$cur")); return 0 ;;
	--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return 0 ;;
	--out)
		COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
	--incident)
		COMPREPLY=($(compgen -W "$(logtriage incidents 2>/dev/null | awk '$1 ~ /^inc-/ { print $1 }')" -- "$cur")); return 0 ;;
	--since|--until|--baseline|--older-than|--source|--exclude|--year|--max-bad|--top|--gap)
		return 0 ;;
	esac
	case $cmd in
	analyze)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--db --rules --format --source --exclude --fail-on --max-bad --tz --year --no-redact --color --quiet --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	report)
		COMPREPLY=($(compgen -W "--db --incident --since --until --out --format --charts --learnings --gap --rules --quiet --help" -- "$cur")) ;;
	incidents)
		COMPREPLY=($(compgen -W "--db --format --help" -- "$cur")) ;;
	records)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--format --tz --year --no-redact --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	summary)
		COMPREPLY=($(compgen -W "--db --since --until --baseline --format --fail-on --top --rules --color --quiet --help --version" -- "$cur")) ;;
	prune)
		COMPREPLY=($(compgen -W "--db --older-than --dry-run --help --version" -- "$cur")) ;;
	rules)
		local verb=
		for ((i = i + 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			-*) ;;
			*) verb=${COMP_WORDS[i]}; break ;;
			esac
		done
		case $verb in
		'') COMPREPLY=($(compgen -W "list show check test --rules --help" -- "$cur")) ;;
		show) COMPREPLY=($(compgen -W "$(_logtriage_rule_ids)" -- "$cur")) ;;
		check|test) COMPREPLY=($(compgen -d -- "$cur")) ;;
		esac ;;
	esac
	return 0
}
complete -o filenames -F _logtriage logtriage
