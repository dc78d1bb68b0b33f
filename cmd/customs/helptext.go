package main

// The help of every level of the command line, in one place so that it reads as one manual
// (README.md's CLI sections say the same).

var serveHelp = help{
	usage: `customs serve [--config FILE] [--listen ADDR] [--admin ADDR] [--data DIR]
              [--intercept catalog|all|none] [--upstream-ca FILE]... [--resolve HOST=ADDR]...
              [--log-level LEVEL] [--log-file FILE] [--rules PATH]...`,
	about: `Run the proxy: open the traffic bound for AI and analytics vendors, inspect it, apply the
policies, and record every flow in DIR/store. The admin listener serves /healthz, /readyz,
/metrics and the flow API that "customs flows" reads while serve holds the store. Flags
override the config file. SIGHUP reloads the rules; SIGTERM drains and exits 0.`,
	examples: `customs serve                                   # proxy 127.0.0.1:8080, admin 127.0.0.1:8081, data ./customs-data
customs serve --config customs.yaml --rules policies/
customs serve --listen 0.0.0.0:3128 --admin off`,
}

var caHelp = help{
	usage: `customs ca init   [--data DIR]
customs ca export [--data DIR]`,
	about: `The interception CA that clients must trust: DIR/ca.pem, its key DIR/ca-key.pem (0600).
customs serve creates it on first start when it is missing.`,
	commands: `init     create the CA (refused when one exists)
export   print the CA certificate (PEM) for clients to trust`,
	examples: `customs ca init --data /var/lib/customs
customs ca export > customs-ca.pem
sudo cp customs-ca.pem /usr/local/share/ca-certificates/customs.crt && sudo update-ca-certificates`,
}

var caInitHelp = help{
	usage:    `customs ca init [--data DIR]`,
	about:    `Create the interception CA: ECDSA P-256, path length 0, valid 10 years. An existing CA is never replaced.`,
	examples: `customs ca init --data /var/lib/customs`,
}

var caExportHelp = help{
	usage:    `customs ca export [--data DIR]`,
	about:    `Print the CA certificate (PEM) on stdout. The key never leaves DIR.`,
	examples: `customs ca export > customs-ca.pem`,
}

var catalogHelp = help{
	usage: `customs catalog list [--category C] [--json] [--config FILE]
customs catalog show ID [--json] [--config FILE]`,
	about: `What customs knows of each vendor: hosts, API endpoints and where prompts sit in them,
headquarters, subprocessors and supply-chain edges, each with its sources. The config's
vendors: are merged in.`,
	commands: `list       the vendors, one per line
show ID    one vendor in full`,
	examples: `customs catalog list --category analytics
customs catalog show openai
customs catalog show mixpanel --json`,
}

var catalogListHelp = help{
	usage:    `customs catalog list [--category C] [--json] [--config FILE]`,
	about:    `List the vendors of the catalog (with the config's vendors: merged in).`,
	examples: "customs catalog list\ncustoms catalog list --category ai-provider --json",
}

var catalogShowHelp = help{
	usage:    `customs catalog show ID [--json] [--config FILE]`,
	about:    `Show one vendor: hosts, endpoints, subprocessors and supply-chain edges.`,
	examples: "customs catalog show anthropic\ncustoms catalog show sentry --json",
}

var scanHelp = help{
	usage: `customs scan [FILE|-] [--json] [--fail] [--rules PATH]... [--host HOST] [--config FILE] [--data DIR]`,
	about: `Run the detectors and the policies over text, a JSON body or a raw HTTP request (FILE, or
standard input for - or no FILE). Findings are masked: a preview and a keyed hash, never the
value. --fail exits 1 when anything is found.`,
	examples: `customs scan prompt.txt
customs scan testdata/requests/openai-chat.http --json
echo 'key AKIAZ7VQ3KXJ5N2WPLMR' | customs scan - --fail
customs scan body.json --host api.openai.com --rules policies/`,
}

var rulesHelp = help{
	usage: `customs rules lint [PATH]... [--config FILE]
customs rules test [PATH]... [-v] [--config FILE]
customs rules default
customs rules publish PATH... [--config FILE] [--from nats://HOST:PORT]
customs rules status --fleet [--config FILE]
customs rules rollback VERSION [--config FILE]`,
	about: `Check rule files (detectors, vendors, policies and their tests). PATH is a rule file or a
directory of them; none means the config's rules (--config), else the embedded default pack.`,
	commands: `lint      load, compile and type-check; every error as file:line:col (exit 2)
test      run the files' tests and detector examples (exit 1 on a failure)
default   print the embedded default policy pack
publish   validate rule files and make them the fleet's rule book's next version
status    the fleet's rule book and the version each site runs
rollback  make an earlier version of the rule book the newest again`,
	examples: `customs rules lint policies/
customs rules test policies/ -v
customs rules default > policies/default.yaml`,
}

var rulesLintHelp = help{
	usage: `customs rules lint [PATH]... [--config FILE]`,
	about: `Load, compile and type-check rule files. Every problem is reported at once as
file:line:col with the line and a caret; exit 2 when there is one.`,
	examples: "customs rules lint policies/\ncustoms rules lint team.yaml extra.yaml",
}

var rulesTestHelp = help{
	usage: `customs rules test [PATH]... [-v] [--config FILE]`,
	about: `Run the rule files' tests and every detector example; exit 1 when one fails. -v lists the
passing ones too.`,
	examples: "customs rules test policies/\ncustoms rules test -v",
}

var rulesDefaultHelp = help{
	usage:    `customs rules default`,
	about:    `Print the embedded default policy pack, the policies in force without rule files.`,
	examples: `customs rules default > policies/default.yaml`,
}

var flowsHelp = help{
	usage: `customs flows [--since 24h] [--until T] [filters] [--limit N] [--oldest] [--json]
customs flows [--since 24h] [filters] --export jsonl|har --out FILE [--reveal]
customs flows show ID [--body [--reveal]] [--json]`,
	about: `List the recorded flows, newest first; at most --limit (50) are listed, and stderr says when
more match. With --export, every matching flow (or --limit of them) is written as JSON lines
or HAR 1.2 to --out (0600), detected values masked unless --reveal. --reveal is recorded in
DIR/audit.log; a reveal that cannot be recorded is refused.
Filters: --vendor, --category, --client, --user, --detector, --action, --api, --host; an
unknown vendor, category, detector, API or action is an error that names the closest.
While customs serve runs it holds the store; flows then reads through its admin API with the
token in DIR/admin.token.`,
	commands: `show ID   one flow (customs flows show -h)`,
	examples: `customs flows                                         # the last 24 h, newest first
customs flows --since 7d --vendor openai --action block
customs flows --detector secret.aws-access-key-id --client 10.2.3.4 --json
customs flows --since 30d --category analytics --export har --out evidence.har
customs flows show 01K... --body`,
}

var flowsShowHelp = help{
	usage: `customs flows show ID [--body [--reveal]] [--json]`,
	about: `One flow: request, vendor, verdict, findings (masked previews and keyed hashes). --body adds
the bodies, decoded, with every detected value replaced by its detector and masked preview,
and each text customs read in the request (headers, URL and query included), masked the same
way. --reveal (with --body) shows the values in clear and is recorded in DIR/audit.log.`,
	examples: `customs flows show 01K...
customs flows show 01K... --body
customs flows show 01K... --body --reveal
customs flows show 01K... --json`,
}

var replayHelp = help{
	usage: `customs replay [--since 30d] [--until T] [filters] [--limit N] [--rules PATH]... [--diff] [--json]
customs replay --har FILE [--store] [--rules PATH]... [--json]`,
	about: `Re-run today's detectors and policies (or --rules) over stored flows, oldest first, and
report what differs from what was decided at the time (--diff: only those). With --har, inspect
the flows of a HAR file the same way; --store keeps them in the store. While customs serve runs,
the stored bodies are read through its admin API, which records the read in DIR/audit.log.`,
	examples: `customs replay --since 30d --rules new-rules/ --diff
customs replay --vendor openai --json
customs replay --har session.har --store`,
}

var jewelsHelp = help{
	usage: `customs jewels add PATH... --label NAME [--class code|document] [--ignore PATTERN]...
customs jewels add-table FILE.csv --label NAME --columns name,email,account_id:id,iban
customs jewels list | stats
customs jewels remove LABEL`,
	about: `Teach customs the company's crown jewels: its source code and documents (fingerprints of
normalised text, so that a reformatted, renamed or partly pasted copy is still recognised) and
its customer tables (exact data match of rows). The indexes hold keyed hashes only — never the
text or the values — keyed with DIR/finding.key, in DIR/jewels, one file per label. A running
customs serve loads them and reloads them when they change; findings are jewel.code,
jewel.document (label, file, shares) and record.match (label, rows, columns).`,
	commands: `add        index files and trees (git checkouts honour .gitignore) under a label
add-table  index chosen columns of a CSV table under a label
list       the index files
stats      what each index holds and the memory serve needs for them
remove     delete a label's index`,
	examples: `customs jewels add ~/src/billing --label billing --class code
customs jewels add ~/docs/strategy --label strategy --class document
customs jewels add-table customers.csv --label customers --columns name,email,account_id:id,iban
customs jewels stats
customs jewels remove strategy`,
}

var jewelsAddHelp = help{
	usage: `customs jewels add PATH... --label NAME [--class code|document] [--ignore PATTERN]... [--keep-strings]`,
	about: `Index files and whole trees under a label: a git checkout (its .gitignore files honoured), a
folder of text, Markdown or source files; DOCX through its text (PDF: convert to text first).
Binaries, generated and vendored files are skipped and counted. Text is normalised (case and
whitespace; for code also comments, string literals and identifiers), cut into k-grams and a
winnowed selection of their keyed hashes kept, with the file each came from; k-grams found in
many files (licence headers, imports) are dropped. Adding a label again replaces its index.`,
	examples: `customs jewels add ~/src/billing ~/src/ledger --label payments --class code
customs jewels add board-pack.md plan.docx --label strategy --class document
customs jewels add ~/src/app --label app --ignore 'testdata/**' --ignore '*.pb.go'`,
}

var jewelsAddTableHelp = help{
	usage: `customs jewels add-table FILE.csv --label NAME --columns COL[:TYPE],... [--min-columns 2] [--min-rows 5] [--max-rows-per-value 3]`,
	about: `Index the chosen columns of a CSV table (header row required): every cell is normalised by
its column's type (name, email, phone, iban, id, number, date, text; guessed from the column's
name unless given) and kept as a keyed hash with its row. A text holding values of one row from
--min-columns distinct columns (or of --min-rows rows: a bulk paste) is a record.match finding naming the
label, the number of rows and the columns — never the values. Values found in many rows (a
city, a first name) never match.`,
	examples: `customs jewels add-table customers.csv --label customers --columns name,email,account_id:id,iban
customs jewels add-table staff.csv --label staff --columns full_name:name,personal_email:email --min-columns 2`,
}

var jewelsListHelp = help{
	usage:    `customs jewels list [--data DIR]`,
	about:    `List the index files in DIR/jewels: label, kind, size and when each was written.`,
	examples: `customs jewels list`,
}

var jewelsStatsHelp = help{
	usage: `customs jewels stats [--data DIR]`,
	about: `Read every index (with DIR/finding.key) and show what it holds: files or rows, the source
size, prints or values, the size on disk and the memory serve needs for it.`,
	examples: `customs jewels stats`,
}

var jewelsRemoveHelp = help{
	usage:    `customs jewels remove LABEL [--data DIR]`,
	about:    `Delete a label's index; a running customs serve stops matching it within jewels.reload.`,
	examples: `customs jewels remove strategy`,
}

var rulesPublishHelp = help{
	usage: `customs rules publish PATH... [--config FILE] [--from nats://HOST:PORT]`,
	about: `Validate rule files (PATH: files or directories of *.yaml and *.yml) as a reload would, then
publish them, sealed with the fleet key, as the next version of the fleet's rule book (a
JetStream key-value bucket). Every site with fleet.watch_rules loads it within seconds in place
of its own rule files; a site where it does not load keeps the rules in force and says why
(customs rules status --fleet). Files that do not load are not published (exit 2).`,
	examples: "customs rules publish policies/ --config customs.yaml\ncustoms rules publish team.yaml vendors.yaml --config customs.yaml",
}

var rulesStatusHelp = help{
	usage: `customs rules status --fleet [--config FILE] [--from nats://HOST:PORT]`,
	about: `The fleet's rule book: its newest version, who published it, and for each site the version
it runs, the newest it has seen, and why it refused one.`,
	examples: "customs rules status --fleet --config customs.yaml",
}

var rulesRollbackHelp = help{
	usage: `customs rules rollback VERSION [--config FILE] [--from nats://HOST:PORT]`,
	about: `Publish version VERSION of the rule book again as its newest version (the bucket keeps the
last 64). It is validated again first; the sites take it as any new version.`,
	examples: "customs rules rollback 12 --config customs.yaml",
}

var fleetHelp = help{
	usage: `customs fleet keygen FILE
customs fleet status [--config FILE] [--from nats://HOST:PORT] [--json]`,
	about: `The fleet: many customs publishing every flow, sealed with one shared key, to one NATS
JetStream stream, and following one rule book. Configure it in the fleet: section of the
config; read it with --fleet on flows, flows show, replay, report and exposure.`,
	commands: `keygen FILE   create the fleet key (0600); copy it to every site and reader
status        the fleet's stream: flows, size, limits, replicas, flows by site`,
	examples: `customs fleet keygen /etc/customs/fleet.key
customs fleet status --config customs.yaml`,
}

var fleetStatusHelp = help{
	usage: `customs fleet status [--config FILE] [--from nats://HOST:PORT] [--json]`,
	about: `The fleet's stream as the servers hold it: flows and bytes, the limits customs set (max age,
max bytes, duplicate window), replicas and the servers holding them, and the flows of each site
(counted from the subjects; nothing is opened).`,
	examples: "customs fleet status --config customs.yaml\ncustoms fleet status --from nats://nats-1:4222 --config reader.yaml --json",
}

var fleetKeygenHelp = help{
	usage: `customs fleet keygen FILE`,
	about: `Create the fleet's AES-256 key in FILE (mode 0600; an existing file is never replaced).
Every site seals its flows with it and every reader opens them with it: copy it to each, and
name it in fleet.key_file.`,
	examples: `customs fleet keygen /etc/customs/fleet.key`,
}
