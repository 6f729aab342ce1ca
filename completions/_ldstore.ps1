
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ldstore' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ldstore'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'ldstore' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Write flags and segments from a source into a store prefix, replacing what is there')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)')
            [CompletionResult]::new('dynamodb', 'dynamodb', [CompletionResultType]::ParameterValue, 'Create or check the DynamoDB table LaunchDarkly data lives in')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a prefix for data that would make SDKs misbehave')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Evaluate flags for a context from a store''s data, as a daemon-mode SDK would')
            [CompletionResult]::new('membership', 'membership', [CompletionResultType]::ParameterValue, 'Show a context''s Big Segments membership: its hash, the refs it is included in and excluded from, and per Big Segment of the data whether it is included, excluded or left to the rules')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove Big Segments membership refs no current segment generation uses (old generations, deleted segments); nothing else is touched')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script for ldstore')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (ldstore.1 and one per subcommand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ldstore;sync' {
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read flags and segments from a file (SDK flag-file format, JSON or YAML, or `dump` output)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Where to read from: ld (LaunchDarkly; the default when an SDK key is given), a file path or file:PATH, or a store URL (redis://host:port?prefix=P, rediss://…, redis+cluster://h:p,h:p?prefix=P, redis+sentinel://h:p,h:p/MASTER?prefix=P, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P). Without a source and with --config (or LD_ENV_<name> variables), every configured environment is synced into its own prefix')
            [CompletionResult]::new('--sdk-key', '--sdk-key', [CompletionResultType]::ParameterName, 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole')
            [CompletionResult]::new('--base-uri', '--base-uri', [CompletionResultType]::ParameterName, 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)')
            [CompletionResult]::new('--stream-uri', '--stream-uri', [CompletionResultType]::ParameterName, 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Payload filter key')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change (added, updated, removed, unchanged), what would become of the Big Segments of a dump or a store source, and whether the sync would be refused (see --allow-empty); write nothing')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Let a source with no flags and no segments empty a prefix that holds items. Without it, such a sync (an empty file, an environment emptied by mistake) is refused with exit 4 and the prefix is left as it was')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Write items the SDKs cannot parse (duplicate members, a `version` written as `3.0`, `1e2` or `-0`, a number out of range such as `1e400`, a lone surrogate escape such as `\ud800`, a live item without a string `key`) as they are, with a warning for each, instead of refusing the whole source (exit 4, each named, nothing written)')
            [CompletionResult]::new('--no-big-segments', '--no-big-segments', [CompletionResultType]::ParameterName, 'From LaunchDarkly, do not synchronize Big Segments. By default, when the flag data has a Big Segment (a segment with "unbounded": true), its memberships are synchronized as the Relay Proxy does (patches polled after the stored cursor and applied in order, then the cursor and the sync time written)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Take the first `put` of the streaming endpoint instead of polling')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;inspect' {
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--stale-after', '--stale-after', [CompletionResultType]::ParameterName, 'Big Segments: a last synchronization older than this is STALE (the SDKs'' staleAfter)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('--exact', '--exact', [CompletionResultType]::ParameterName, 'Big Segments: count every context''s membership (by default at most the first 100,000 membership records are read, and the counts say so)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;dump' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only this kind of item')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Only the item with this key')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of standard output. A regular file is replaced atomically (a new file renamed over it, keeping its permissions); a symbolic link''s target is written by the same rule (the link stays); a device or FIFO is written through')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to this file instead of standard output. A regular file is replaced atomically (a new file renamed over it, keeping its permissions); a symbolic link''s target is written by the same rule (the link stays); a device or FIFO is written through')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include tombstones (deleted items); left out by default')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print (items are re-indented; without this they are byte-identical to the store)')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;dynamodb' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create-table', 'create-table', [CompletionResultType]::ParameterValue, 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)')
            [CompletionResult]::new('check-table', 'check-table', [CompletionResultType]::ParameterValue, 'Check an existing table: key schema, status, billing mode, item count, size, prefixes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ldstore;dynamodb;create-table' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the standard AWS chain)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Timeout for each request to DynamoDB')
            [CompletionResult]::new('--billing', '--billing', [CompletionResultType]::ParameterName, 'Billing mode')
            [CompletionResult]::new('--read-capacity', '--read-capacity', [CompletionResultType]::ParameterName, 'Read capacity units (with --billing provisioned)')
            [CompletionResult]::new('--write-capacity', '--write-capacity', [CompletionResultType]::ParameterName, 'Write capacity units (with --billing provisioned)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A tag for the table as KEY=VALUE (repeatable)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--if-not-exists', '--if-not-exists', [CompletionResultType]::ParameterName, 'Succeed when the table already exists with the right key schema')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as DynamoDB accepted the request, without waiting for the table to be ACTIVE')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;dynamodb;check-table' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'Table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: the standard AWS chain)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Timeout for each request to DynamoDB')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;dynamodb;help' {
            [CompletionResult]::new('create-table', 'create-table', [CompletionResultType]::ParameterValue, 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)')
            [CompletionResult]::new('check-table', 'check-table', [CompletionResultType]::ParameterValue, 'Check an existing table: key schema, status, billing mode, item count, size, prefixes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ldstore;dynamodb;help;create-table' {
            break
        }
        'ldstore;dynamodb;help;check-table' {
            break
        }
        'ldstore;dynamodb;help;help' {
            break
        }
        'ldstore;diff' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only this kind of item')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Only the item(s) with this key')
            [CompletionResult]::new('--sdk-key', '--sdk-key', [CompletionResultType]::ParameterName, 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole')
            [CompletionResult]::new('--base-uri', '--base-uri', [CompletionResultType]::ParameterName, 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)')
            [CompletionResult]::new('--stream-uri', '--stream-uri', [CompletionResultType]::ParameterName, 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Payload filter key')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL for dynamodb:// sources without endpoint= (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for dynamodb:// sources without region= (default: the standard AWS chain)')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the stores')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--show-values', '--show-values', [CompletionResultType]::ParameterName, 'Print the old and new value of every changed field')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Take the first `put` of the streaming endpoint instead of polling')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;validate' {
            [CompletionResult]::new('--stale-after', '--stale-after', [CompletionResultType]::ParameterName, 'Big Segments: a last synchronization older than this is reported stale (the SDKs'' staleAfter; set it to what your SDKs are configured with)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--all-prefixes', '--all-prefixes', [CompletionResultType]::ParameterName, 'Check every LaunchDarkly prefix in the store, not just --prefix')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Fail (exit 1) on warnings too')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;eval' {
            [CompletionResult]::new('--flag', '--flag', [CompletionResultType]::ParameterName, 'The flag to evaluate')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The evaluation context as JSON, e.g. ''{"kind":"user","key":"u1"}'' (a multi-context: ''{"kind":"multi","user":{"key":"u1"},"org":{"key":"o1"}}''), or @FILE to read it from a file')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Read flags and segments from this source instead of the store (a file, file:PATH, ld, or a store URL such as redis://host:port?prefix=P)')
            [CompletionResult]::new('--sdk-key', '--sdk-key', [CompletionResultType]::ParameterName, 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole')
            [CompletionResult]::new('--base-uri', '--base-uri', [CompletionResultType]::ParameterName, 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)')
            [CompletionResult]::new('--stream-uri', '--stream-uri', [CompletionResultType]::ParameterName, 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Payload filter key')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Evaluate every flag (tombstones excluded)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Take the first `put` of the streaming endpoint instead of polling')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;membership' {
            [CompletionResult]::new('--context-key', '--context-key', [CompletionResultType]::ParameterName, 'The context key to look up (for every Big Segment, whatever its context kind)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The context as JSON (or @FILE): each Big Segment looks up the key of the context of its `unboundedContextKind` (default `user`)')
            [CompletionResult]::new('--stale-after', '--stale-after', [CompletionResultType]::ParameterName, 'A last synchronization older than this is STALE (the SDKs'' staleAfter)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;prune' {
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be removed, and remove nothing')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;relay' {
            [CompletionResult]::new('--check-interval', '--check-interval', [CompletionResultType]::ParameterName, 'How often to check that each prefix''s `$inited` marker is still there (a wiped store is repopulated from memory at once)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Serve GET /status and GET /metrics on this address (e.g. 127.0.0.1:8030; a bare port binds to loopback)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format on stderr')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Reconnect when the stream sends nothing (not even a heartbeat) for this long')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'At most this many --listen connections at a time (more wait until one closes)')
            [CompletionResult]::new('--big-segments-interval', '--big-segments-interval', [CompletionResultType]::ParameterName, 'Rewrite the Big Segments sync time this long after the last event (the Relay Proxy: 30 s)')
            [CompletionResult]::new('--big-segments-retry', '--big-segments-retry', [CompletionResultType]::ParameterName, 'Retry a failed Big Segments synchronization after this long (the Relay Proxy: 10 s), or as long as LaunchDarkly''s `Retry-After` asked when that is longer')
            [CompletionResult]::new('--sdk-key', '--sdk-key', [CompletionResultType]::ParameterName, 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole')
            [CompletionResult]::new('--base-uri', '--base-uri', [CompletionResultType]::ParameterName, 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)')
            [CompletionResult]::new('--stream-uri', '--stream-uri', [CompletionResultType]::ParameterName, 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Payload filter key')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER')
            [CompletionResult]::new('--redis-sentinel-master', '--redis-sentinel-master', [CompletionResultType]::ParameterName, 'Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels'' own password comes from REDIS_SENTINEL_PASSWORD; the data nodes'' from the address or REDIS_PASSWORD')
            [CompletionResult]::new('--redis-ca-file', '--redis-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Redis TLS (added to the system roots)')
            [CompletionResult]::new('--dynamodb', '--dynamodb', [CompletionResultType]::ParameterName, 'DynamoDB table name')
            [CompletionResult]::new('--dynamodb-endpoint', '--dynamodb-endpoint', [CompletionResultType]::ParameterName, 'DynamoDB endpoint URL (DynamoDB Local and similar)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region for DynamoDB (default: the standard AWS chain)')
            [CompletionResult]::new('--consul', '--consul', [CompletionResultType]::ParameterName, 'Consul: host:port or http(s)://host:port')
            [CompletionResult]::new('--consul-token', '--consul-token', [CompletionResultType]::ParameterName, 'Consul ACL token')
            [CompletionResult]::new('--consul-token-file', '--consul-token-file', [CompletionResultType]::ParameterName, 'File holding the Consul ACL token')
            [CompletionResult]::new('--consul-ca-file', '--consul-ca-file', [CompletionResultType]::ParameterName, 'PEM file of CA certificates to trust for Consul over HTTPS')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read store settings (and environments) from a Relay Proxy configuration file')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store (more than 0; on DynamoDB, each whole request with the AWS SDK''s retries)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--exit-on-error', '--exit-on-error', [CompletionResultType]::ParameterName, 'Exit (code 4) when LaunchDarkly rejects an SDK key instead of retrying slowly')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Let a `put` with no flags and no segments empty a prefix that holds items. Without it such a put is logged as an error and not written (memory still follows LaunchDarkly)')
            [CompletionResult]::new('--no-big-segments', '--no-big-segments', [CompletionResultType]::ParameterName, 'Do not synchronize Big Segments (by default each environment whose flag data has a Big Segment gets the Relay Proxy''s Big Segments synchronizer beside its flag stream)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Take the first `put` of the streaming endpoint instead of polling')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
            [CompletionResult]::new('--redis-cluster', '--redis-cluster', [CompletionResultType]::ParameterName, 'Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…); the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;completions' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Directory to write the pages into (default: print ldstore.1 to standard output)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more detail); logs go to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ldstore;help' {
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Write flags and segments from a source into a store prefix, replacing what is there')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Show the LaunchDarkly prefixes a store holds, or one prefix in detail')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file)')
            [CompletionResult]::new('dynamodb', 'dynamodb', [CompletionResultType]::ParameterValue, 'Create or check the DynamoDB table LaunchDarkly data lives in')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a prefix for data that would make SDKs misbehave')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Evaluate flags for a context from a store''s data, as a daemon-mode SDK would')
            [CompletionResult]::new('membership', 'membership', [CompletionResultType]::ParameterValue, 'Show a context''s Big Segments membership: its hash, the refs it is included in and excluded from, and per Big Segment of the data whether it is included, excluded or left to the rules')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove Big Segments membership refs no current segment generation uses (old generations, deleted segments); nothing else is touched')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script for ldstore')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (ldstore.1 and one per subcommand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ldstore;help;sync' {
            break
        }
        'ldstore;help;inspect' {
            break
        }
        'ldstore;help;dump' {
            break
        }
        'ldstore;help;dynamodb' {
            [CompletionResult]::new('create-table', 'create-table', [CompletionResultType]::ParameterValue, 'Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`)')
            [CompletionResult]::new('check-table', 'check-table', [CompletionResultType]::ParameterValue, 'Check an existing table: key schema, status, billing mode, item count, size, prefixes')
            break
        }
        'ldstore;help;dynamodb;create-table' {
            break
        }
        'ldstore;help;dynamodb;check-table' {
            break
        }
        'ldstore;help;diff' {
            break
        }
        'ldstore;help;validate' {
            break
        }
        'ldstore;help;eval' {
            break
        }
        'ldstore;help;membership' {
            break
        }
        'ldstore;help;prune' {
            break
        }
        'ldstore;help;relay' {
            break
        }
        'ldstore;help;completions' {
            break
        }
        'ldstore;help;man' {
            break
        }
        'ldstore;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
