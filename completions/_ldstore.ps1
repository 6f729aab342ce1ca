
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
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script for ldstore')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (ldstore.1 and one per subcommand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ldstore;sync' {
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read flags and segments from a file (SDK flag-file format, JSON or YAML, or `dump` output)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Where to read from: a file path or file:PATH, or a store URL (redis://host:port?prefix=P, rediss://…, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P)')
            [CompletionResult]::new('--sdk-key', '--sdk-key', [CompletionResultType]::ParameterName, 'Server-side SDK key (default: LD_SDK_KEY). Never printed whole')
            [CompletionResult]::new('--base-uri', '--base-uri', [CompletionResultType]::ParameterName, 'Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI)')
            [CompletionResult]::new('--stream-uri', '--stream-uri', [CompletionResultType]::ParameterName, 'Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Payload filter key')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS')
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
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change (added, updated, removed, unchanged) and write nothing')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Take the first `put` of the streaming endpoint instead of polling')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
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
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS')
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
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
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
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of standard output (written atomically)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to this file instead of standard output (written atomically)')
            [CompletionResult]::new('--redis', '--redis', [CompletionResultType]::ParameterName, 'Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS')
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
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'Connection and command timeout for the store')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table for people, JSON for scripts')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include tombstones (deleted items); left out by default')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print (items are re-indented; without this they are byte-identical to the store)')
            [CompletionResult]::new('--redis-tls', '--redis-tls', [CompletionResultType]::ParameterName, 'Use TLS for Redis (turns redis:// into rediss://)')
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
