
use builtin;
use str;

set edit:completion:arg-completer[ldstore] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ldstore'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ldstore'= {
            cand --output 'Output format: a table for people, JSON for scripts'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand sync 'Write flags and segments from a source into a store prefix, replacing what is there'
            cand inspect 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail'
            cand dump 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)'
            cand dynamodb 'Create or check the DynamoDB table LaunchDarkly data lives in'
            cand diff 'Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment'
            cand validate 'Check a prefix for data that would make SDKs misbehave'
            cand eval 'Evaluate flags for a context from a store''s data, as a daemon-mode SDK would'
            cand relay 'Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM)'
            cand completions 'Print a shell completion script for ldstore'
            cand man 'Write man pages (ldstore.1 and one per subcommand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ldstore;sync'= {
            cand --from-file 'Read flags and segments from a file (SDK flag-file format, JSON or YAML, or `dump` output)'
            cand --from 'Where to read from: ld (LaunchDarkly; the default when an SDK key is given), a file path or file:PATH, or a store URL (redis://host:port?prefix=P, rediss://…, redis+cluster://h:p,h:p?prefix=P, redis+sentinel://h:p,h:p/MASTER?prefix=P, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P). Without a source and with --config (or LD_ENV_<name> variables), every configured environment is synced into its own prefix'
            cand --sdk-key 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole'
            cand --base-uri 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)'
            cand --stream-uri 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)'
            cand --filter 'Payload filter key'
            cand --timeout 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)'
            cand --redis 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER'
            cand --redis-sentinel-master 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb 'DynamoDB table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar)'
            cand --region 'AWS region for DynamoDB (default: the standard AWS chain)'
            cand --consul 'Consul: host:port or http(s)://host:port'
            cand --consul-token 'Consul ACL token'
            cand --consul-token-file 'File holding the Consul ACL token'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --prefix 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)'
            cand --config 'Read store settings (and environments) from a Relay Proxy configuration file'
            cand --store-timeout 'Connection and command timeout for the store'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --dry-run 'Show what would change (added, updated, removed, unchanged) and whether the sync would be refused (see --allow-empty); write nothing'
            cand --allow-empty 'Let a source with no flags and no segments empty a prefix that holds items. Without it, such a sync (an empty file, an environment emptied by mistake) is refused with exit 4 and the prefix is left as it was'
            cand --force 'Write items the SDKs cannot parse (duplicate members, a `version` written as `3.0`, `1e2` or `-0`, a number out of range such as `1e400`, a lone surrogate escape such as `\ud800`, a live item without a string `key`) as they are, with a warning for each, instead of refusing the whole source (exit 4, each named, nothing written)'
            cand --stream 'Take the first `put` of the streaming endpoint instead of polling'
            cand --redis-tls 'Use TLS for Redis (turns redis:// into rediss://)'
            cand --redis-cluster 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;inspect'= {
            cand --redis 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER'
            cand --redis-sentinel-master 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb 'DynamoDB table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar)'
            cand --region 'AWS region for DynamoDB (default: the standard AWS chain)'
            cand --consul 'Consul: host:port or http(s)://host:port'
            cand --consul-token 'Consul ACL token'
            cand --consul-token-file 'File holding the Consul ACL token'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --prefix 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)'
            cand --config 'Read store settings (and environments) from a Relay Proxy configuration file'
            cand --store-timeout 'Connection and command timeout for the store'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --redis-tls 'Use TLS for Redis (turns redis:// into rediss://)'
            cand --redis-cluster 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;dump'= {
            cand --kind 'Only this kind of item'
            cand --key 'Only the item with this key'
            cand -o 'Write to this file instead of standard output. A regular file is replaced atomically (a new file renamed over it, keeping its permissions); a symbolic link''s target is written by the same rule (the link stays); a device or FIFO is written through'
            cand --out 'Write to this file instead of standard output. A regular file is replaced atomically (a new file renamed over it, keeping its permissions); a symbolic link''s target is written by the same rule (the link stays); a device or FIFO is written through'
            cand --redis 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER'
            cand --redis-sentinel-master 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb 'DynamoDB table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar)'
            cand --region 'AWS region for DynamoDB (default: the standard AWS chain)'
            cand --consul 'Consul: host:port or http(s)://host:port'
            cand --consul-token 'Consul ACL token'
            cand --consul-token-file 'File holding the Consul ACL token'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --prefix 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)'
            cand --config 'Read store settings (and environments) from a Relay Proxy configuration file'
            cand --store-timeout 'Connection and command timeout for the store'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --include-deleted 'Include tombstones (deleted items); left out by default'
            cand --pretty 'Pretty-print (items are re-indented; without this they are byte-identical to the store)'
            cand --redis-tls 'Use TLS for Redis (turns redis:// into rediss://)'
            cand --redis-cluster 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;dynamodb'= {
            cand --output 'Output format: a table for people, JSON for scripts'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create-table 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)'
            cand check-table 'Check an existing table: key schema, status, billing mode, item count, size, prefixes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ldstore;dynamodb;create-table'= {
            cand --table 'Table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL)'
            cand --region 'AWS region (default: the standard AWS chain)'
            cand --store-timeout 'Timeout for each request to DynamoDB'
            cand --billing 'Billing mode'
            cand --read-capacity 'Read capacity units (with --billing provisioned)'
            cand --write-capacity 'Write capacity units (with --billing provisioned)'
            cand --tag 'A tag for the table as KEY=VALUE (repeatable)'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --if-not-exists 'Succeed when the table already exists with the right key schema'
            cand --no-wait 'Return as soon as DynamoDB accepted the request, without waiting for the table to be ACTIVE'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;dynamodb;check-table'= {
            cand --table 'Table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL)'
            cand --region 'AWS region (default: the standard AWS chain)'
            cand --store-timeout 'Timeout for each request to DynamoDB'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;dynamodb;help'= {
            cand create-table 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)'
            cand check-table 'Check an existing table: key schema, status, billing mode, item count, size, prefixes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ldstore;dynamodb;help;create-table'= {
        }
        &'ldstore;dynamodb;help;check-table'= {
        }
        &'ldstore;dynamodb;help;help'= {
        }
        &'ldstore;diff'= {
            cand --kind 'Only this kind of item'
            cand --key 'Only the item(s) with this key'
            cand --sdk-key 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole'
            cand --base-uri 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)'
            cand --stream-uri 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)'
            cand --filter 'Payload filter key'
            cand --timeout 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL for dynamodb:// sources without endpoint= (DynamoDB Local and similar)'
            cand --region 'AWS region for dynamodb:// sources without region= (default: the standard AWS chain)'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --store-timeout 'Connection and command timeout for the stores'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --show-values 'Print the old and new value of every changed field'
            cand --stream 'Take the first `put` of the streaming endpoint instead of polling'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;validate'= {
            cand --redis 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER'
            cand --redis-sentinel-master 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb 'DynamoDB table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar)'
            cand --region 'AWS region for DynamoDB (default: the standard AWS chain)'
            cand --consul 'Consul: host:port or http(s)://host:port'
            cand --consul-token 'Consul ACL token'
            cand --consul-token-file 'File holding the Consul ACL token'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --prefix 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)'
            cand --config 'Read store settings (and environments) from a Relay Proxy configuration file'
            cand --store-timeout 'Connection and command timeout for the store'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --all-prefixes 'Check every LaunchDarkly prefix in the store, not just --prefix'
            cand --strict 'Fail (exit 1) on warnings too'
            cand --redis-tls 'Use TLS for Redis (turns redis:// into rediss://)'
            cand --redis-cluster 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;eval'= {
            cand --flag 'The flag to evaluate'
            cand --context 'The evaluation context as JSON, e.g. ''{"kind":"user","key":"u1"}'' (a multi-context: ''{"kind":"multi","user":{"key":"u1"},"org":{"key":"o1"}}''), or @FILE to read it from a file'
            cand --from 'Read flags and segments from this source instead of the store (a file, file:PATH, ld, or a store URL such as redis://host:port?prefix=P)'
            cand --sdk-key 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole'
            cand --base-uri 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)'
            cand --stream-uri 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)'
            cand --filter 'Payload filter key'
            cand --timeout 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)'
            cand --redis 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER'
            cand --redis-sentinel-master 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb 'DynamoDB table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar)'
            cand --region 'AWS region for DynamoDB (default: the standard AWS chain)'
            cand --consul 'Consul: host:port or http(s)://host:port'
            cand --consul-token 'Consul ACL token'
            cand --consul-token-file 'File holding the Consul ACL token'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --prefix 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)'
            cand --config 'Read store settings (and environments) from a Relay Proxy configuration file'
            cand --store-timeout 'Connection and command timeout for the store'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --all 'Evaluate every flag (tombstones excluded)'
            cand --stream 'Take the first `put` of the streaming endpoint instead of polling'
            cand --redis-tls 'Use TLS for Redis (turns redis:// into rediss://)'
            cand --redis-cluster 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;relay'= {
            cand --check-interval 'How often to check that each prefix''s `$inited` marker is still there (a wiped store is repopulated from memory at once)'
            cand --listen 'Serve GET /status and GET /metrics on this address (e.g. 127.0.0.1:8030; a bare port binds to loopback)'
            cand --log-format 'Log format on stderr'
            cand --read-timeout 'Reconnect when the stream sends nothing (not even a heartbeat) for this long'
            cand --max-connections 'At most this many --listen connections at a time (more wait until one closes)'
            cand --sdk-key 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole'
            cand --base-uri 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)'
            cand --stream-uri 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)'
            cand --filter 'Payload filter key'
            cand --timeout 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)'
            cand --redis 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER'
            cand --redis-sentinel-master 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD'
            cand --redis-ca-file 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)'
            cand --dynamodb 'DynamoDB table name'
            cand --dynamodb-endpoint 'DynamoDB endpoint URL (DynamoDB Local and similar)'
            cand --region 'AWS region for DynamoDB (default: the standard AWS chain)'
            cand --consul 'Consul: host:port or http(s)://host:port'
            cand --consul-token 'Consul ACL token'
            cand --consul-token-file 'File holding the Consul ACL token'
            cand --consul-ca-file 'PEM file of CA certificates to trust for Consul over HTTPS'
            cand --prefix 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)'
            cand --config 'Read store settings (and environments) from a Relay Proxy configuration file'
            cand --store-timeout 'Connection and command timeout for the store'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand --exit-on-error 'Exit (code 4) when LaunchDarkly rejects an SDK key instead of retrying slowly'
            cand --allow-empty 'Let a `put` with no flags and no segments empty a prefix that holds items. Without it such a put is logged as an error and not written (memory still follows LaunchDarkly)'
            cand --stream 'Take the first `put` of the streaming endpoint instead of polling'
            cand --redis-tls 'Use TLS for Redis (turns redis:// into rediss://)'
            cand --redis-cluster 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;completions'= {
            cand --output 'Output format: a table for people, JSON for scripts'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;man'= {
            cand --dir 'Directory to write the pages into (default: print ldstore.1 to standard output)'
            cand --output 'Output format: a table for people, JSON for scripts'
            cand -v 'Log more (repeat for more detail); logs go to stderr'
            cand --verbose 'Log more (repeat for more detail); logs go to stderr'
            cand -q 'Print only errors'
            cand --quiet 'Print only errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ldstore;help'= {
            cand sync 'Write flags and segments from a source into a store prefix, replacing what is there'
            cand inspect 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail'
            cand dump 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)'
            cand dynamodb 'Create or check the DynamoDB table LaunchDarkly data lives in'
            cand diff 'Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment'
            cand validate 'Check a prefix for data that would make SDKs misbehave'
            cand eval 'Evaluate flags for a context from a store''s data, as a daemon-mode SDK would'
            cand relay 'Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM)'
            cand completions 'Print a shell completion script for ldstore'
            cand man 'Write man pages (ldstore.1 and one per subcommand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ldstore;help;sync'= {
        }
        &'ldstore;help;inspect'= {
        }
        &'ldstore;help;dump'= {
        }
        &'ldstore;help;dynamodb'= {
            cand create-table 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)'
            cand check-table 'Check an existing table: key schema, status, billing mode, item count, size, prefixes'
        }
        &'ldstore;help;dynamodb;create-table'= {
        }
        &'ldstore;help;dynamodb;check-table'= {
        }
        &'ldstore;help;diff'= {
        }
        &'ldstore;help;validate'= {
        }
        &'ldstore;help;eval'= {
        }
        &'ldstore;help;relay'= {
        }
        &'ldstore;help;completions'= {
        }
        &'ldstore;help;man'= {
        }
        &'ldstore;help;help'= {
        }
    ]
    $completions[$command]
}
