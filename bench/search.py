"""Search: indexing speed, index size and query latency, casevault against plain Whoosh.

    python3 bench/search.py [--turns 100000] [--turns-per-doc 50] [--queries 200] [--seed 7]
                            [--dir DIR] [--postgres URL] [--profile DIR]

Generates (seeded) call transcripts of ``--turns`` speaker turns in all, ``--turns-per-doc`` turns
per transcript, 20-40 lower-case words per turn drawn with a Zipf law from a few thousand
syllable words and common English and French words, with fixed phrases ("noose tighten", "red
notice", ...) sprinkled in and the registered identity ("Hadrien Quillon", alias "Quillon")
mentioned in some turns and speaking some of them.

casevault: a fresh vault (SQLite, or ``--postgres``) with one case, the identity registered before
anything is ingested, every transcript ingested (encrypted, masked, suggestions proposed), every
pending suggestion rejected in one decision, and the transcript released by a second reviewer.
Then ``Search.open(vault)`` builds the encrypted index from nothing: this process reads the
masked documents from the vault a chunk at a time and deals their units out to two forked
writer processes (the machine's cores), each writing a segment in one pass (``search._engine._writer``,
which a test holds to Whoosh's own bytes), with the analyzer's cached per-word path
(``search._engine._analysis.terms``, which tests hold equal to the token chain). Two indexing figures:
"index only" is the ``Search.open`` build over already-released documents; "end to end" is ingest +
review + release + that build. Queries go through ``Search.search`` as an investigator: policy,
query checks, the index search with facets, the re-check of hits against the database, snippets
for the 10 hits of the first page rendered through the policy, and the audit entry.

Plain Whoosh: ``whoosh.index.create_in`` (a plain ``FileStorage``), the same analyzer
(``search._engine._analysis.word_analyzer``, run as Whoosh runs it, token by token through its filters) on
a stored, positional text field, plus ``speaker`` and ``kind``; the same turn text as generated (it has no masking, so the real name is in it); one
writer, no ``procs``, committed every ``--turns-per-doc`` * 200 turns (the batch casevault's
rebuild commits). Queries: ``QueryParser("text")`` with ``FuzzyTermPlugin``, one searcher kept
open, ``searcher.search(q, limit=10)`` and ``hit.highlights("text")`` for each of the 10 hits.
Plain Whoosh computes no total count, no facets and writes no audit entry.

A "doc" is one turn on both sides: casevault indexes one unit per turn. Query mix: term, AND (two
words), phrase, prefix (``abcd*``), fuzzy (``word~1``), field filter (``speaker:`` or ``kind:`` and
a word); plain fuzzy queries are written ``word~1/1``: casevault keeps the first letter of a fuzzy
word, Whoosh's plugin by default does not (and then compares every term). Each kind cycles over several variants drawn from the corpus, after one warm-up pass,
``--queries`` timed runs per kind on each side, interleaved; then ``--queries`` queries of the
identity's real name and as many of random words, interleaved, as the investigator (who may not
see the name): their medians should not differ beyond noise. Latency is wall time per query;
ratios are casevault / plain (below 1 is faster than plain), except indexing (casevault / plain
turns/s, above 1 is faster). Index size is the bytes on disk of each index directory.

Aims (printed as met / not met): indexing at least 1.5x plain single-process Whoosh, p95 of
every query kind no worse than plain Whoosh, phrase p95 at most a quarter of plain's.

``--profile DIR`` writes cProfile files of casevault's index build (index.prof) and of its
timed searches (query.prof) into DIR.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/ holds http.py: keep this folder off sys.path, or it would hide the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from whoosh import index as whoosh_index  # noqa: E402
from whoosh.fields import ID, KEYWORD, TEXT, Schema  # noqa: E402
from whoosh.qparser import FuzzyTermPlugin, QueryParser  # noqa: E402

from search import Search  # noqa: E402
from search._engine._analysis import word_analyzer  # noqa: E402
from vault import Settings, Vault  # noqa: E402

PASSPHRASE = "bench passphrase 2026 long"
PLAIN_BATCH_DOCS = 200  # transcripts per plain Whoosh commit, like casevault's rebuild batches
KINDS = ("term", "and", "phrase", "prefix", "fuzzy", "field")
AIM_INDEXING = 1.5
AIM_PHRASE = 0.25

# --- corpus ------------------------------------------------------------------------------------

COMMON = (
    # English and French words, stop words included: the analyzer drops those on both sides
    "the to and of a in that is it you he was for on are with as his they be at one have this from or "
    "had by but what all were we when your can said there use an each which she do how their if will "
    "money court family mother brother friend company business contract account travel lawyer appeal "
    "decision police safe promise nothing happen tomorrow embassy letter judge prison border ticket "
    "le la les de des du un une et en à il elle nous vous pas pour dans sur avec mais qui que "
    "argent famille frère ami affaire contrat compte voyage avocat appel décision police promesse "
    "rien demain ambassade lettre juge prison frontière billet maison retour soeur mère sécurité"
).split()
PHRASES = ("noose tighten", "red notice", "your sister", "come home", "arrest warrant", "bank account",
           "passport office closed", "extradition hearing", "frozen assets", "safe house")
QUERY_PHRASES = ('"noose tighten"', '"red notice"', '"arrest warrant"', '"passport office closed"',
                 '"extradition hearing"', '"frozen assets"', '"safe house"', '"come home"')
SPEAKERS = ("QM", "Caller 2", "Official", "Friend", "Quillon")
SPEAKER_WEIGHTS = (30, 20, 15, 15, 20)
IDENTITY = ("Hadrien Quillon", ["Quillon"], "H")
ONSETS = ("b", "br", "c", "ch", "d", "f", "g", "gr", "j", "k", "l", "m", "n", "p", "pr", "r", "s", "st",
          "t", "tr", "v", "z")
VOWELS = ("a", "e", "i", "o", "u", "ou", "ai", "ie", "an", "on")
CODAS = ("", "", "n", "r", "l", "s", "t", "x", "m")


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words = list(dict.fromkeys(COMMON))
    seen = set(words) | {w for p in PHRASES for w in p.split()}
    while len(words) < size:
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.randint(2, 3))) + rng.choice(CODAS)
        if word not in seen:
            seen.add(word)
            words.append(word)
    # the stop words and common words stay frequent; syllable words take the long tail
    head, tail = words[:40], words[40:]
    rng.shuffle(tail)
    return head + tail


def generate(turns: int, per_doc: int, rng: random.Random) -> tuple[list[bytes], list[tuple[str, str]]]:
    """Transcripts (bytes), and every turn as (speaker, text) for the plain index."""
    vocab = vocabulary(rng)
    cum, total = [], 0.0
    for rank in range(1, len(vocab) + 1):
        total += 1.0 / rank ** 0.95
        cum.append(total)
    documents, flat = [], []
    for start in range(0, turns, per_doc):
        lines, t = [], 0
        for _ in range(min(per_doc, turns - start)):
            words = rng.choices(vocab, cum_weights=cum, k=rng.randint(20, 40))
            if rng.random() < 0.25:
                words.insert(rng.randrange(len(words)), rng.choice(PHRASES))
            if rng.random() < 0.04:
                words.insert(rng.randrange(len(words)), rng.choice(("Hadrien Quillon", "Quillon")))
            text = " ".join(words)
            speaker = rng.choices(SPEAKERS, SPEAKER_WEIGHTS)[0]
            t += rng.randint(3, 20)
            lines.append(f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] {speaker}: {text}\n")
            flat.append((speaker, text))
        documents.append("".join(lines).encode())
    return documents, flat


# --- the query mix -------------------------------------------------------------------------------

def query_mix(searcher, parser, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Per kind, variants as (casevault query, plain Whoosh query), drawn from the plain index's
    terms so that every prefix expands to at most 128 terms (casevault refuses broader ones) and
    every AND finds something."""
    reader = searcher.reader()
    stats = sorted(((reader.doc_frequency("text", t), t.decode() if isinstance(t, bytes) else t)
                    for t in reader.lexicon("text")), reverse=True)
    words = [t for _, t in stats if t.isalpha() and t.isascii() and len(t) >= 5 and not t.startswith("cvx")]
    frequent = words[5:45]  # matching thousands of turns (at 100,000 turns): the expensive ones
    middle = words[200:400] if len(words) >= 400 else words[len(words) // 2:]  # hundreds of turns
    terms = rng.sample(frequent, 6) + rng.sample(middle, 6)
    lexicon = [t for _, t in stats]

    def expansions(prefix: str) -> int:
        return sum(1 for t in lexicon if t.startswith(prefix))

    prefixes: list[str] = []
    for word in frequent + middle:
        prefix = word[:4]
        if prefix not in prefixes and 2 <= expansions(prefix) <= 100:
            prefixes.append(prefix)
        if len(prefixes) == 10:
            break
    fuzzy = []
    analyzer = word_analyzer()
    for word in rng.sample(frequent, 5) + rng.sample(middle, 5):
        for _ in range(20):  # a typo the analyzer keeps as it is (a stemmed typo may be 2 edits away)
            i = rng.randrange(2, len(word))
            typo = word[:i] + rng.choice("aeiourst") + word[i + 1:]
            if typo != word and [t.text for t in analyzer(typo)] == [typo]:
                fuzzy.append((f"{typo}~1", f"{typo}~1/1"))
                break
    pairs: list[str] = []
    for _ in range(500):
        pair = f"{rng.choice(frequent)} {rng.choice(frequent + middle)}"
        if pair not in pairs and len(set(pair.split())) == 2 and searcher.search(parser.parse(pair), limit=1):
            pairs.append(pair)
            if len(pairs) == 6:
                break
    pairs += ["red notice", "noose tighten"]
    field = [(f"speaker:QM {w}", f"speaker:qm {w}") for w in terms[:3]]
    field += [(f"speaker:H {w}", f"speaker:quillon {w}") for w in terms[3:6]]
    field += [(f"kind:transcript {w}", f"kind:transcript {w}") for w in terms[6:10]]
    same = lambda items: [(x, x) for x in items]  # noqa: E731
    return {
        "term": same(terms + ["noose", "sister"]),
        "and": same(pairs),
        "phrase": same(list(QUERY_PHRASES)),
        "prefix": same([f"{p}*" for p in prefixes] + ["tigh*"]),
        "fuzzy": fuzzy + [("notise~1", "notise~1/1")],
        "field": field,
    }


# --- helpers ------------------------------------------------------------------------------------

def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


# --- the two sides ------------------------------------------------------------------------------

def build_plain(path: Path, turns: list[tuple[str, str]], batch: int) -> float:
    schema = Schema(text=TEXT(analyzer=word_analyzer(), stored=True),
                    speaker=KEYWORD(lowercase=True, commas=False), kind=ID)
    path.mkdir(parents=True)
    ix = whoosh_index.create_in(str(path), schema)
    started = time.perf_counter()
    writer = ix.writer()
    for i, (speaker, text) in enumerate(turns, 1):
        writer.add_document(text=text, speaker=speaker, kind="transcript")
        if i % batch == 0 or i == len(turns):
            writer.commit()
            if i < len(turns):
                writer = ix.writer()
            if i % (batch * 5) == 0 or i == len(turns):
                note(f"  plain whoosh: indexed {i}/{len(turns)} turns")
    seconds = time.perf_counter() - started
    ix.close()
    return seconds


def ingest_all(vault: Vault, documents: list[bytes]) -> tuple[object, object, float]:
    """Ingest, review and release every transcript; returns (case, investigator, seconds)."""
    case = vault.create_case("Bench", actor="bench")
    ivy = vault.add_user("ivy", "investigator", cases=(case.id,), actor="bench")[0]
    rex = vault.add_user("rex", "reviewer", cases=(case.id,), actor="bench")[0]
    rita = vault.add_user("rita", "reviewer", cases=(case.id,), actor="bench")[0]
    name, aliases, label = IDENTITY
    vault.add_identity(case, name=name, aliases=aliases, label=label, actor="bench")
    started = time.perf_counter()
    step = max(1, len(documents) // 20)
    for i, data in enumerate(documents, 1):
        doc = vault.ingest(io.BytesIO(data), case=case, filename=f"call-{i:05d}.txt", actor=rex.id)
        masked = vault.masked(doc.id)  # the title's suggestions wait for a decision too
        pending = [str(r["id"]) for r in [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
                   if r["state"] == "pending"]
        if pending:
            vault.decide(doc.id, rex, pending, accept=False, actor="bench")
        vault.release(doc.id, rita, actor="bench")
        if i % step == 0 or i == len(documents):
            elapsed = time.perf_counter() - started
            note(f"  casevault: ingested+released {i}/{len(documents)} transcripts ({i / elapsed:.1f}/s)")
    return case, ivy, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=100_000, help="turns in the corpus (one index doc each)")
    parser.add_argument("--turns-per-doc", type=int, default=50, help="turns per transcript")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per kind and side")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (kept); default a temporary one")
    parser.add_argument("--postgres", default=None, metavar="URL", help="database URL (default SQLite)")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="write index.prof and query.prof (cProfile) of casevault into DIR")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    started = time.perf_counter()
    documents, turns = generate(args.turns, args.turns_per_doc, rng)
    size = sum(map(len, documents))
    print(f"corpus: {len(turns)} turns in {len(documents)} transcripts, {size / 1e6:.1f} MB "
          f"(generated in {time.perf_counter() - started:.1f} s); a doc below is one turn")

    if args.dir:
        work = args.dir
        work.mkdir(parents=True, exist_ok=False)
    else:
        work = Path(tempfile.mkdtemp(prefix="casevault-bench-search-"))
    try:
        run(args, work, documents, turns, rng)
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path, documents: list[bytes], turns: list[tuple[str, str]],
        rng: random.Random) -> None:
    n = len(turns)
    # -- plain Whoosh
    plain_dir = work / "plain"
    plain_seconds = build_plain(plain_dir, turns, PLAIN_BATCH_DOCS * args.turns_per_doc)
    plain_bytes = dir_bytes(plain_dir)
    note(f"  plain whoosh: {n / plain_seconds:.0f} turns/s; peak RSS {rss_mib():.0f} MiB")

    # -- casevault
    settings = Settings(data_dir=work / "data", database_url=args.postgres)
    vault = Vault.initialize(settings, PASSPHRASE)
    try:
        case, ivy, ingest_seconds = ingest_all(vault, documents)
        note(f"  casevault: ingest+review+release {ingest_seconds:.1f} s; peak RSS {rss_mib():.0f} MiB")
        profiler = cProfile.Profile() if args.profile else None
        done = [0]
        step = max(1, len(documents) // 10)

        def progress(count: int) -> None:
            before, done[0] = done[0], done[0] + count
            if before // step != done[0] // step or done[0] == len(documents):
                note(f"  casevault: indexed {done[0]}/{len(documents)} transcripts")

        started = time.perf_counter()
        if profiler:
            profiler.enable()
        search = Search.open(vault, progress=progress)
        if profiler:
            profiler.disable()
            args.profile.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(args.profile / "index.prof")
        index_seconds = time.perf_counter() - started
        index_bytes = dir_bytes(settings.index_dir)
        note(f"  casevault: index build {index_seconds:.1f} s; peak RSS {rss_mib():.0f} MiB")

        # -- queries
        plain_ix = whoosh_index.open_dir(str(plain_dir))
        searcher = plain_ix.searcher()
        qparser = QueryParser("text", plain_ix.schema)
        qparser.add_plugin(FuzzyTermPlugin())
        mix = query_mix(searcher, qparser, rng)

        def plain_query(text: str) -> int:
            results = searcher.search(qparser.parse(text), limit=10)
            for hit in results:
                hit.highlights("text")
            return results.scored_length()

        def casevault_query(text: str) -> int:
            return len(search.search(ivy, text, actor="bench").hits)

        empty = []
        for kind in KINDS:  # warm-up: every variant once on each side
            for ours, theirs in mix[kind]:
                if casevault_query(ours) == 0 or plain_query(theirs) == 0:
                    empty.append(f"{kind}: {ours!r} / {theirs!r}")
        if empty:
            note("  queries with no hit on one side: " + "; ".join(empty))
        query_profiler = cProfile.Profile() if args.profile else None
        ours_ms: dict[str, list[float]] = {k: [] for k in KINDS}
        theirs_ms: dict[str, list[float]] = {k: [] for k in KINDS}
        for i in range(args.queries):
            for kind in KINDS:
                ours, theirs = mix[kind][i % len(mix[kind])]
                t0 = time.perf_counter()
                if query_profiler:
                    query_profiler.enable()
                casevault_query(ours)
                if query_profiler:
                    query_profiler.disable()
                t1 = time.perf_counter()
                plain_query(theirs)
                t2 = time.perf_counter()
                ours_ms[kind].append((t1 - t0) * 1000)
                theirs_ms[kind].append((t2 - t1) * 1000)
            if (i + 1) % max(1, args.queries // 5) == 0:
                note(f"  queries: {i + 1}/{args.queries} rounds of {len(KINDS)} kinds")
        if query_profiler:
            query_profiler.dump_stats(args.profile / "query.prof")
        # DESIGN.md rule 6: a real name an investigator may not see answers like a random word, in
        # time too (tests/search hold the work equal; here the clock), interleaved
        name_ms: list[float] = []
        word_ms: list[float] = []
        names = [IDENTITY[0], *IDENTITY[1]]
        for i in range(args.queries):
            word = "".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(4))
            for query, times in ((names[i % len(names)], name_ms), (word, word_ms)):
                t0 = time.perf_counter()
                casevault_query(query)
                times.append((time.perf_counter() - t0) * 1000)
        searcher.close()
        plain_ix.close()
        search.close()
    finally:
        vault.close()

    # -- the table
    plain_rate = n / plain_seconds
    index_rate = n / index_seconds
    e2e_rate = n / (ingest_seconds + index_seconds)
    print()
    print(f"indexing ({n} turns, 1 turn = 1 doc)        turns/s    seconds   x plain")
    print(f"  plain Whoosh, 1 writer, no procs        {plain_rate:9.0f} {plain_seconds:10.1f}      1.00")
    print(f"  casevault index only (Search.open)      {index_rate:9.0f} {index_seconds:10.1f} {index_rate / plain_rate:9.2f}")
    print(f"  casevault end to end (ingest, review,   {e2e_rate:9.0f} {ingest_seconds + index_seconds:10.1f} "
          f"{e2e_rate / plain_rate:9.2f}")
    print(f"    release {len(documents)} transcripts: {ingest_seconds:.1f} s; then the index build)")
    print()
    print("index size on disk        MB      x plain")
    print(f"  plain Whoosh      {plain_bytes / 1e6:10.1f}         1.00")
    print(f"  casevault         {index_bytes / 1e6:10.1f} {index_bytes / plain_bytes:12.2f}   (released + in-review indexes)")
    print()
    print(f"query latency, ms ({args.queries} per kind, variants per kind in brackets)")
    print(f"  {'kind':<12}{'casevault p50':>14}{'p95':>9}{'plain p50':>12}{'p95':>9}{'p50 ratio':>11}{'p95 ratio':>11}")
    ratios = {}
    for kind in KINDS:
        o50, o95 = percentile(ours_ms[kind], 0.5), percentile(ours_ms[kind], 0.95)
        t50, t95 = percentile(theirs_ms[kind], 0.5), percentile(theirs_ms[kind], 0.95)
        ratios[kind] = o95 / t95
        print(f"  {kind + f' [{len(mix[kind])}]':<12}{o50:14.1f}{o95:9.1f}{t50:12.1f}{t95:9.1f}"
              f"{o50 / t50:11.2f}{o95 / t95:11.2f}")
    mean_ours = statistics.fmean(v for k in KINDS for v in ours_ms[k])
    mean_theirs = statistics.fmean(v for k in KINDS for v in theirs_ms[k])
    print(f"  {'all (mean)':<12}{mean_ours:14.1f}{'':>9}{mean_theirs:12.1f}{'':>9}{mean_ours / mean_theirs:11.2f}")
    name50, word50 = statistics.median(name_ms), statistics.median(word_ms)
    print(f"  real name vs random word ({args.queries} each, investigator): p50 {name50:.2f} vs {word50:.2f} ms, "
          f"ratio {name50 / word50:.2f}")
    print()
    print("aims")
    print(f"  indexing >= {AIM_INDEXING}x plain, index only:  {index_rate / plain_rate:.2f}x  {met(index_rate / plain_rate >= AIM_INDEXING)}")
    print(f"  indexing >= {AIM_INDEXING}x plain, end to end:  {e2e_rate / plain_rate:.2f}x  {met(e2e_rate / plain_rate >= AIM_INDEXING)}")
    for kind in KINDS:
        print(f"  p95 {kind:<7}<= plain:             {ratios[kind]:.2f}x  {met(ratios[kind] <= 1.0)}")
    print(f"  p95 phrase  <= {AIM_PHRASE} x plain:        {ratios['phrase']:.2f}x  {met(ratios['phrase'] <= AIM_PHRASE)}")
    print(f"peak RSS: {rss_mib():.0f} MiB (both sides in this one process)")
    if args.profile:
        print(f"profiles: {args.profile / 'index.prof'}, {args.profile / 'query.prof'} "
              "(casevault's figures above include the profiler's overhead)")


if __name__ == "__main__":
    main()
