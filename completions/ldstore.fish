# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ldstore_global_optspecs
    string join \n output= v/verbose q/quiet h/help V/version
end

function __fish_ldstore_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ldstore_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ldstore_using_subcommand
    set -l cmd (__fish_ldstore_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ldstore -n "__fish_ldstore_needs_command" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_needs_command" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_needs_command" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ldstore -n "__fish_ldstore_needs_command" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "sync" -d 'Write flags and segments from a source into a store prefix, replacing what is there'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "inspect" -d 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "dump" -d 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "completions" -d 'Print a shell completion script for ldstore'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "man" -d 'Write man pages (ldstore.1 and one per subcommand)'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l from-file -d 'Read flags and segments from a file (SDK flag-file format, JSON or YAML, or `dump` output)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l from -d 'Where to read from: a file path or file:PATH, or a store URL (redis://host:port?prefix=P, rediss://…, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l sdk-key -d 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l base-uri -d 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l stream-uri -d 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l filter -d 'Payload filter key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l timeout -d 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l store-timeout -d 'Connection and command timeout for the store' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l dry-run -d 'Show what would change (added, updated, removed, unchanged) and write nothing'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l stream -d 'Take the first `put` of the streaming endpoint instead of polling'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l store-timeout -d 'Connection and command timeout for the store' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l kind -d 'Only this kind of item' -r -f -a "flags\t'Feature flags (`features` in store layouts, `flags` in payloads)'
segments\t'Segments'"
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l key -d 'Only the item with this key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s o -l out -d 'Write to this file instead of standard output (written atomically)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l store-timeout -d 'Connection and command timeout for the store' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l include-deleted -d 'Include tombstones (deleted items); left out by default'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l pretty -d 'Pretty-print (items are re-indented; without this they are byte-identical to the store)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand completions" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand completions" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand man" -l dir -d 'Directory to write the pages into (default: print ldstore.1 to standard output)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand man" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand man" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand man" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand man" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand man" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump completions man help" -f -a "sync" -d 'Write flags and segments from a source into a store prefix, replacing what is there'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump completions man help" -f -a "inspect" -d 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump completions man help" -f -a "dump" -d 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump completions man help" -f -a "completions" -d 'Print a shell completion script for ldstore'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump completions man help" -f -a "man" -d 'Write man pages (ldstore.1 and one per subcommand)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
