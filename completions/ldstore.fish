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
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "dynamodb" -d 'Create or check the DynamoDB table LaunchDarkly data lives in'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "diff" -d 'Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "validate" -d 'Check a prefix for data that would make SDKs misbehave'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "eval" -d 'Evaluate flags for a context from a store\'s data, as a daemon-mode SDK would'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "membership" -d 'Show a context\'s Big Segments membership: its hash, the refs it is included in and excluded from, and per Big Segment of the data whether it is included, excluded or left to the rules'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "prune" -d 'Remove Big Segments membership refs no current segment generation uses (old generations, deleted segments); nothing else is touched'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "relay" -d 'Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM)'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "completions" -d 'Print a shell completion script for ldstore'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "man" -d 'Write man pages (ldstore.1 and one per subcommand)'
complete -c ldstore -n "__fish_ldstore_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l from-file -d 'Read flags and segments from a file (SDK flag-file format, JSON or YAML, or `dump` output)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l from -d 'Where to read from: ld (LaunchDarkly; the default when an SDK key is given), a file path or file:PATH, or a store URL (redis://host:port?prefix=P, rediss://…, redis+cluster://h:p,h:p?prefix=P, redis+sentinel://h:p,h:p/MASTER?prefix=P, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P). Without a source and with --config (or LD_ENV_<name> variables), every configured environment is synced into its own prefix' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l sdk-key -d 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l base-uri -d 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l stream-uri -d 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l filter -d 'Payload filter key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l timeout -d 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
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
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l dry-run -d 'Show what would change (added, updated, removed, unchanged), what would become of the Big Segments of a dump or a store source, and whether the sync would be refused (see --allow-empty); write nothing'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l allow-empty -d 'Let a source with no flags and no segments empty a prefix that holds items. Without it, such a sync (an empty file, an environment emptied by mistake) is refused with exit 4 and the prefix is left as it was'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l force -d 'Write items the SDKs cannot parse (duplicate members, a `version` written as `3.0`, `1e2` or `-0`, a number out of range such as `1e400`, a lone surrogate escape such as `\\ud800`, a live item without a string `key`) as they are, with a warning for each, instead of refusing the whole source (exit 4, each named, nothing written)'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l no-big-segments -d 'From LaunchDarkly, do not synchronize Big Segments. By default, when the flag data has a Big Segment (a segment with "unbounded": true), its memberships are synchronized as the Relay Proxy does (patches polled after the stored cursor and applied in order, then the cursor and the sync time written)'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l stream -d 'Take the first `put` of the streaming endpoint instead of polling'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand sync" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
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
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l stale-after -d 'Big Segments: a last synchronization older than this is STALE (the SDKs\' staleAfter)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -l exact -d 'Big Segments: count every context\'s membership (by default at most the first 100,000 membership records are read, and the counts say so)'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l kind -d 'Only this kind of item' -r -f -a "flags\t'Feature flags (`features` in store layouts, `flags` in payloads)'
segments\t'Segments'"
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l key -d 'Only the item with this key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s o -l out -d 'Write to this file instead of standard output. A regular file is replaced atomically (a new file renamed over it, keeping its permissions); a symbolic link\'s target is written by the same rule (the link stays); a device or FIFO is written through' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
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
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l include-deleted -d 'Include tombstones (deleted items); left out by default'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l pretty -d 'Pretty-print (items are re-indented; without this they are byte-identical to the store)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ldstore -n "__fish_ldstore_using_subcommand dump" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -f -a "create-table" -d 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -f -a "check-table" -d 'Check an existing table: key schema, status, billing mode, item count, size, prefixes'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and not __fish_seen_subcommand_from create-table check-table help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l table -d 'Table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l region -d 'AWS region (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l store-timeout -d 'Timeout for each request to DynamoDB' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l billing -d 'Billing mode' -r -f -a "on-demand\t'Pay per request (no capacity to plan)'
provisioned\t'Provisioned read and write capacity (give --read-capacity and --write-capacity)'"
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l read-capacity -d 'Read capacity units (with --billing provisioned)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l write-capacity -d 'Write capacity units (with --billing provisioned)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l tag -d 'A tag for the table as KEY=VALUE (repeatable)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l if-not-exists -d 'Succeed when the table already exists with the right key schema'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -l no-wait -d 'Return as soon as DynamoDB accepted the request, without waiting for the table to be ACTIVE'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from create-table" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -l table -d 'Table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -l region -d 'AWS region (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -l store-timeout -d 'Timeout for each request to DynamoDB' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from check-table" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from help" -f -a "create-table" -d 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from help" -f -a "check-table" -d 'Check an existing table: key schema, status, billing mode, item count, size, prefixes'
complete -c ldstore -n "__fish_ldstore_using_subcommand dynamodb; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l kind -d 'Only this kind of item' -r -f -a "flags\t'Feature flags (`features` in store layouts, `flags` in payloads)'
segments\t'Segments'"
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l key -d 'Only the item(s) with this key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l sdk-key -d 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l base-uri -d 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l stream-uri -d 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l filter -d 'Payload filter key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l timeout -d 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l dynamodb-endpoint -d 'DynamoDB endpoint URL for dynamodb:// sources without endpoint= (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l region -d 'AWS region for dynamodb:// sources without region= (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l store-timeout -d 'Connection and command timeout for the stores' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l show-values -d 'Print the old and new value of every changed field'
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -l stream -d 'Take the first `put` of the streaming endpoint instead of polling'
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ldstore -n "__fish_ldstore_using_subcommand diff" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l stale-after -d 'Big Segments: a last synchronization older than this is reported stale (the SDKs\' staleAfter; set it to what your SDKs are configured with)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l all-prefixes -d 'Check every LaunchDarkly prefix in the store, not just --prefix'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l strict -d 'Fail (exit 1) on warnings too'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand validate" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l flag -d 'The flag to evaluate' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l context -d 'The evaluation context as JSON, e.g. \'{"kind":"user","key":"u1"}\' (a multi-context: \'{"kind":"multi","user":{"key":"u1"},"org":{"key":"o1"}}\'), or @FILE to read it from a file' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l from -d 'Read flags and segments from this source instead of the store (a file, file:PATH, ld, or a store URL such as redis://host:port?prefix=P)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l sdk-key -d 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l base-uri -d 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l stream-uri -d 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l filter -d 'Payload filter key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l timeout -d 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l all -d 'Evaluate every flag (tombstones excluded)'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l stream -d 'Take the first `put` of the streaming endpoint instead of polling'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand eval" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l context-key -d 'The context key to look up (for every Big Segment, whatever its context kind)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l context -d 'The context as JSON (or @FILE): each Big Segment looks up the key of the context of its `unboundedContextKind` (default `user`)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l stale-after -d 'A last synchronization older than this is STALE (the SDKs\' staleAfter)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand membership" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l dry-run -d 'Show what would be removed, and remove nothing'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand prune" -s V -l version -d 'Print version'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l check-interval -d 'How often to check that each prefix\'s `$inited` marker is still there (a wiped store is repopulated from memory at once)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l listen -d 'Serve GET /status and GET /metrics on this address (e.g. 127.0.0.1:8030; a bare port binds to loopback)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l read-timeout -d 'Reconnect when the stream sends nothing (not even a heartbeat) for this long' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l max-connections -d 'At most this many --listen connections at a time (more wait until one closes)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l big-segments-interval -d 'Rewrite the Big Segments sync time this long after the last event (the Relay Proxy: 30 s)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l big-segments-retry -d 'Retry a failed Big Segments synchronization after this long (the Relay Proxy: 10 s), or as long as LaunchDarkly\'s `Retry-After` asked when that is longer' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l sdk-key -d 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l base-uri -d 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l stream-uri -d 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l filter -d 'Payload filter key' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l timeout -d 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l redis -d 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l redis-sentinel-master -d 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels\' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes\' from the address or REDIS_PASSWORD' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l redis-ca-file -d 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l dynamodb -d 'DynamoDB table name' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l dynamodb-endpoint -d 'DynamoDB endpoint URL (DynamoDB Local and similar)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l region -d 'AWS region for DynamoDB (default: the standard AWS chain)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l consul -d 'Consul: host:port or http(s)://host:port' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l consul-token -d 'Consul ACL token' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l consul-token-file -d 'File holding the Consul ACL token' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l consul-ca-file -d 'PEM file of CA certificates to trust for Consul over HTTPS' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l prefix -d 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l config -d 'Read store settings (and environments) from a Relay Proxy configuration file' -r -F
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l store-timeout -d 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK\'s retries)' -r
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l output -d 'Output format: a table for people, JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l exit-on-error -d 'Exit (code 4) when LaunchDarkly rejects an SDK key instead of retrying slowly'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l allow-empty -d 'Let a `put` with no flags and no segments empty a prefix that holds items. Without it such a put is logged as an error and not written (memory still follows LaunchDarkly)'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l no-big-segments -d 'Do not synchronize Big Segments (by default each environment whose flag data has a Big Segment gets the Relay Proxy\'s Big Segments synchronizer beside its flag stream)'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l stream -d 'Take the first `put` of the streaming endpoint instead of polling'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l redis-tls -d 'Use TLS for Redis (turns redis:// into rediss://)'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -l redis-cluster -d 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -s v -l verbose -d 'Log more (repeat for more detail); logs go to stderr'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -s q -l quiet -d 'Print only errors'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -s h -l help -d 'Print help'
complete -c ldstore -n "__fish_ldstore_using_subcommand relay" -s V -l version -d 'Print version'
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
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "sync" -d 'Write flags and segments from a source into a store prefix, replacing what is there'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "inspect" -d 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "dump" -d 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "dynamodb" -d 'Create or check the DynamoDB table LaunchDarkly data lives in'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "diff" -d 'Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "validate" -d 'Check a prefix for data that would make SDKs misbehave'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "eval" -d 'Evaluate flags for a context from a store\'s data, as a daemon-mode SDK would'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "membership" -d 'Show a context\'s Big Segments membership: its hash, the refs it is included in and excluded from, and per Big Segment of the data whether it is included, excluded or left to the rules'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "prune" -d 'Remove Big Segments membership refs no current segment generation uses (old generations, deleted segments); nothing else is touched'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "relay" -d 'Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "completions" -d 'Print a shell completion script for ldstore'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "man" -d 'Write man pages (ldstore.1 and one per subcommand)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and not __fish_seen_subcommand_from sync inspect dump dynamodb diff validate eval membership prune relay completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and __fish_seen_subcommand_from dynamodb" -f -a "create-table" -d 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)'
complete -c ldstore -n "__fish_ldstore_using_subcommand help; and __fish_seen_subcommand_from dynamodb" -f -a "check-table" -d 'Check an existing table: key schema, status, billing mode, item count, size, prefixes'
