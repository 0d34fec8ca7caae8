#!/usr/bin/env bash
# make_store.sh AGORA DIR: a data directory DIR/assens holding the example
# data of three municipalities of the DK2020 alliance (Assens, the
# coordinator, with Vejle's and Sønderborg's records handed over as bundles,
# as contrib/demo.sh does without the network).  Prints nothing on success.
set -euo pipefail
agora=${1:?usage: make_store.sh AGORA DIR}
dir=${2:?usage: make_store.sh AGORA DIR}
examples="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../contrib/examples" && pwd)"
unset AGORA_HOME XDG_DATA_HOME AGORA_PASSPHRASE || true
q() { "$agora" "$@" >/dev/null; }
key() { "$agora" --home "$dir/$1" whoami --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'; }

q --home "$dir/assens" init --name "Assens Kommune" --country DK --alliance "DK2020 klimaalliance"
q --home "$dir/vejle" init --name "Vejle Kommune" --country DK
q --home "$dir/soenderborg" init --name "Sønderborg Kommune" --country DK
q --home "$dir/assens" alliance admit "$(key vejle)" --name "Vejle Kommune" --country DK
q --home "$dir/assens" alliance admit "$(key soenderborg)" --name "Sønderborg Kommune" --country DK
q --home "$dir/assens" bundle create "$dir/gov.agb"
for m in vejle soenderborg; do
	q --home "$dir/$m" bundle import "$dir/gov.agb"
	q --home "$dir/$m" alliance use "DK2020 klimaalliance"
	q --home "$dir/$m" publish --file "$examples/$m.jsonl" 2>/dev/null
	q --home "$dir/$m" bundle create "$dir/$m.agb"
done
q --home "$dir/assens" publish --file "$examples/assens.jsonl" 2>/dev/null
for m in vejle soenderborg; do
	q --home "$dir/assens" bundle import "$dir/$m.agb"
done
