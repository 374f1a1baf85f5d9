"""Masking throughput by number of registered aliases, against Presidio's deny-list recognizer.

    python3 bench/mask.py [--mb 5] [--presidio-kb 200] [--presidio-budget 120] [--seed 7]

Generates (seeded) ~5 MB of French and English court records and call transcripts that mention
fictional people about once every 40-80 words, some of them in capitals, with a possessive 's,
broken across a line, or with their accents dropped or decomposed. There are 10,000 fictional
identities, each with a two-word name made of syllables; 40 of them also have their surname alone
as an alias, listed right after their full name. For N in 10, 1,000 and 10,000 the first N
aliases of that list are registered, and the same text (which mentions all 10,000 identities)
is masked: with fewer aliases, fewer mentions match.

casevault: builds an ``AliasMatcher`` (timed apart), then times ``find()`` plus writing the masked
text, each mention replaced by ``cvx`` and 12 hex characters derived from the identity id (a
stand-in for the real tokens); MB/s is the text's UTF-8 size over the best of 3 runs.

Presidio (presidio-analyzer and presidio-anonymizer, if installed): a ``PatternRecognizer`` with
the same N aliases as its deny list, ``analyze()`` called directly (no NLP engine, no model),
then ``AnonymizerEngine().anonymize()`` replacing each hit by ``<PERSON>``. Its one big regex
alternation is slow, so it is timed on the first ``--presidio-kb`` KB of the text; when a probe
says one run would exceed ``--presidio-budget`` seconds the slice is made smaller, and the line
says so. The ratio is casevault's MB/s over Presidio's. Without Presidio the casevault figures are
still printed, with one line saying why Presidio was not measured.

Targets: at least 20 MB/s at 10,000 aliases, and over 100x Presidio.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import resource
import sys
import time
import tracemalloc
import unicodedata
from pathlib import Path

# bench/ holds http.py: keep this folder off sys.path, or it would hide the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redaction import Alias, AliasMatcher, Mention  # noqa: E402

SIZES = (10, 1_000, 10_000)
IDENTITIES = 10_000
SURNAME_ALIAS_EVERY = 250  # identity i with i % 250 == 3 also has its surname alone as an alias
RUNS = 3

# --- names -------------------------------------------------------------------------------------

ONSETS = ["", "b", "br", "c", "ch", "d", "f", "g", "gr", "j", "l", "l", "m", "m", "n", "p", "r", "r", "s",
          "t", "tr", "v"]
VOWELS = ["a", "a", "e", "e", "i", "o", "u", "ou", "au", "an", "on", "in"]
CODAS = ["", "", "", "n", "r", "l", "s", "t"]
SURNAME_ENDINGS = ["", "ier", "on", "ard", "ez", "son", "eau", "ot", "ac", "elle", "ain", "ski", "ley", "ini", "ens"]
ACCENTS = {"e": "éè", "a": "â", "i": "ï", "o": "ô"}


def _syllables(rng: random.Random, count: int, accent: bool, ending: str | None = None) -> str:
    word = "".join(rng.choice(ONSETS if i else ONSETS[1:]) + rng.choice(VOWELS) for i in range(count))
    word += rng.choice(CODAS) if not ending else ending
    if accent:
        spots = [i for i, c in enumerate(word) if c in ACCENTS]
        if spots:
            i = rng.choice(spots)
            word = word[:i] + rng.choice(ACCENTS[word[i]]) + word[i + 1:]
    return word


def _simple_fold(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()


def make_identities(rng: random.Random) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """10,000 distinct two-word names, their surnames, and the ordered alias list (id, text)."""
    names: list[str] = []
    surnames: list[str] = []
    seen: set[str] = set()
    surname_count: dict[str, int] = {}
    while len(names) < IDENTITIES:
        first = _syllables(rng, rng.choice((1, 2, 2, 2, 3)), rng.random() < 0.12).capitalize()
        if rng.random() < 0.03:  # "Jean-Luc"
            first += "-" + _syllables(rng, 1, False).capitalize()
        last = _syllables(rng, rng.choice((2, 2, 3)), rng.random() < 0.1, rng.choice(SURNAME_ENDINGS)).capitalize()
        if len(_simple_fold(first).replace("-", "")) < 3 or len(last) < 5:
            continue
        full = f"{first} {last}"
        if _simple_fold(full) in seen:
            continue
        seen.add(_simple_fold(full))
        names.append(full)
        surnames.append(last)
        surname_count[_simple_fold(last)] = surname_count.get(_simple_fold(last), 0) + 1
    aliases: list[tuple[str, str]] = []
    for i, (full, last) in enumerate(zip(names, surnames)):
        aliases.append((identity_id(i), full))
        if i % SURNAME_ALIAS_EVERY == 3:
            # a surname alone: give it one of its own if it is shared with someone else
            while surname_count.get(_simple_fold(last), 0) > 1 or len(last) < 7:
                last = _syllables(rng, 3, False, rng.choice(SURNAME_ENDINGS)).capitalize()
            surname_count[_simple_fold(last)] = 1
            names[i] = f"{full.split(' ')[0]} {last}"
            aliases[-1] = (identity_id(i), names[i])
            surnames[i] = last
            aliases.append((identity_id(i), last))
    return names, surnames, aliases


def identity_id(i: int) -> str:
    return f"idn-{i:05d}"


# --- text --------------------------------------------------------------------------------------

EN_COURT = [
    "The court heard evidence from {P} concerning the events of the night in question.",
    "Counsel for the defence submitted that {P} had no knowledge of the transfer.",
    "It is not disputed that {P} was present at the address on the material date.",
    "The witness statement of {P} was read into the record without objection.",
    "In cross-examination {P} accepted that the signature on the contract was genuine.",
    "The tribunal is satisfied that {P} was acting under duress at the time.",
    "An application was made on behalf of {P} for the hearing to be adjourned.",
    "The prosecution relies on bank records showing payments made by {P} to an offshore account.",
    "The judge directed the jury that the account given by {P} should be treated with caution.",
    "{P}'s account of the meeting is inconsistent with the telephone records.",
    "The court refused {P}\u2019s application for bail.",
]
EN_FILLER = [
    "The hearing resumed at ten o'clock after a short adjournment.",
    "The appeal is allowed in part and the matter is remitted for a fresh determination.",
    "The respondent did not attend and was not represented.",
    "No order as to costs was sought by either party at the conclusion of the hearing.",
    "The documents were served on the solicitors by recorded delivery on the same day.",
    "The court has considered the written submissions and the bundle of authorities.",
    "There is no evidence that the warrant was executed outside the permitted hours.",
    "Reporting restrictions remain in force until further order of the court.",
    "The passport was surrendered to the police as a condition of bail.",
    "The interpreter confirmed that she had understood the questions put to the witness.",
]
FR_COURT = [
    "Le tribunal a entendu {P} en qualité de témoin assisté.",
    "Maître Lefort, conseil de {P}, a sollicité le renvoi de l'affaire à une audience ultérieure.",
    "Il résulte de la procédure que {P} était présent au domicile le jour des faits.",
    "Interrogé par les enquêteurs, {P} a contesté avoir reçu les fonds litigieux.",
    "La cour relève que les déclarations de {P} sont constantes et circonstanciées.",
    "Le juge d'instruction a ordonné le placement de {P} sous contrôle judiciaire.",
    "Selon le rapport d'expertise, la signature attribuée à {P} est authentique.",
    "Le ministère public requiert une peine de deux ans d'emprisonnement à l'encontre de {P}.",
]
FR_FILLER = [
    "L'audience a été suspendue à midi et reprise à quatorze heures.",
    "Les parties ont été régulièrement convoquées par lettre recommandée avec accusé de réception.",
    "Le conseil de la partie civile a déposé des conclusions écrites visées par le greffier.",
    "Il convient de confirmer le jugement déféré en toutes ses dispositions.",
    "Aucune pièce nouvelle n'a été communiquée avant la clôture des débats.",
    "Les dépens de l'instance d'appel seront supportés par l'appelant.",
    "La décision sera rendue publiquement par mise à disposition au greffe.",
    "Les scellés ont été ouverts en présence des parties et de leurs avocats.",
    "Le prévenu a déclaré ne pas vouloir répondre aux questions du tribunal.",
]
EN_CALL = [
    "Did you speak to {P} about the money?",
    "Tell {P} to call me back tomorrow morning.",
    "I saw {P} at the embassy yesterday, he looked worried.",
    "If {P} says anything to the police we are finished.",
    "Ask {P} whether the passport is ready.",
    "{P}'s brother has the documents, not me.",
]
EN_CALL_FILLER = [
    "Yes, I understand, but not on this phone.",
    "They are tightening the noose, we need to be careful.",
    "Call me again when you are home.",
    "Nothing will happen, I promise you.",
    "The lawyer said the decision comes next week.",
    "Okay, okay, I will send it tonight.",
    "My sister is coming with the family on Sunday.",
]
FR_CALL = [
    "Tu as parlé à {P} pour l'argent ?",
    "Dis à {P} de me rappeler demain matin.",
    "J'ai vu {P} hier devant l'ambassade, il avait l'air inquiet.",
    "Si {P} parle aux policiers, c'est fini pour nous.",
    "Demande à {P} si le passeport est prêt.",
]
FR_CALL_FILLER = [
    "Oui, je comprends, mais pas au téléphone.",
    "Ils resserrent l'étau, il faut faire attention.",
    "Rappelle-moi quand tu seras à la maison.",
    "Il ne va rien se passer, je te le promets.",
    "L'avocat a dit que la décision tombe la semaine prochaine.",
    "D'accord, je l'envoie ce soir.",
]
SPEAKERS = ["H", "QM", "Caller 2", "Official", "Friend", "Interlocuteur", "Homme 1"]


def _strip_accents(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))


class TextMaker:
    def __init__(self, rng: random.Random, names: list[str], surnames: list[str], position: dict[str, int]) -> None:
        self.rng = rng
        self.names = names
        self.surnames = surnames
        self.position = position  # of each alias text in the alias list
        self.written: list[int] = []  # the alias-list position of each mention written
        self.words_since = 0
        self.gap = rng.randint(40, 80)

    def mention(self) -> str:
        rng = self.rng
        i = rng.randrange(IDENTITIES)
        name = self.names[i]
        if i % SURNAME_ALIAS_EVERY == 3 and rng.random() < 0.4:
            name = self.surnames[i]
        self.written.append(self.position[name])
        r = rng.random()
        if r < 0.08:
            return name.upper()
        if r < 0.14 and " " in name:
            return name.replace(" ", rng.choice(("\n", "\n", " \n  ")), 1)
        if r < 0.22 and _strip_accents(name) != name:
            return _strip_accents(name) if rng.random() < 0.5 else unicodedata.normalize("NFD", name)
        return name

    def sentence(self, with_name: list[str], filler: list[str], english: bool) -> str:
        if self.words_since >= self.gap:
            self.words_since = 0
            self.gap = self.rng.randint(40, 80)
            template = self.rng.choice(with_name)
            text = template.replace("{P}", self.mention())
        else:
            text = self.rng.choice(filler)
        self.words_since += text.count(" ") + 1
        return text

    def court_record(self, english: bool) -> str:
        rng = self.rng
        with_name, filler = (EN_COURT, EN_FILLER) if english else (FR_COURT, FR_FILLER)
        paragraphs = []
        for n in range(rng.randint(3, 8)):
            sentences = [self.sentence(with_name, filler, english) for _ in range(rng.randint(3, 7))]
            paragraphs.append(f"{n + 1}. " + " ".join(sentences))
        title = ("JUDGMENT" if english else "ARRÊT") + f" No {rng.randint(1000, 99999)}/{rng.randint(2015, 2025)}"
        return title + "\n\n" + "\n\n".join(paragraphs) + "\n\n"

    def transcript(self, english: bool) -> str:
        rng = self.rng
        with_name, filler = (EN_CALL, EN_CALL_FILLER) if english else (FR_CALL, FR_CALL_FILLER)
        lines, t = [], 0
        for _ in range(rng.randint(20, 40)):
            t += rng.randint(2, 15)
            turn = " ".join(self.sentence(with_name, filler, english) for _ in range(rng.randint(1, 3)))
            lines.append(f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] {rng.choice(SPEAKERS)}: {turn}")
        return "\n".join(lines) + "\n\n"


def make_text(rng: random.Random, names: list[str], surnames: list[str], alias_list: list[tuple[str, str]],
              megabytes: float) -> tuple[str, list[int]]:
    """The text, and for each mention written the position of its alias in the alias list."""
    maker = TextMaker(rng, names, surnames, {text: i for i, (_, text) in enumerate(alias_list)})
    parts: list[str] = []
    size = 0
    target = int(megabytes * 1e6)
    while size < target:
        english = rng.random() < 0.5
        doc = maker.court_record(english) if rng.random() < 0.5 else maker.transcript(english)
        parts.append(doc)
        size += len(doc.encode())
    return "".join(parts), maker.written


# --- casevault ---------------------------------------------------------------------------------

def mask(text: str, mentions: list[Mention], tokens: dict[str, str]) -> str:
    pieces = []
    last = 0
    for m in mentions:
        token = tokens.get(m.identity_id)
        if token is None:
            token = tokens[m.identity_id] = "cvx" + hashlib.sha256(m.identity_id.encode()).hexdigest()[:12]
        pieces.append(text[last:m.start])
        pieces.append(token)
        last = m.end
    pieces.append(text[last:])
    return "".join(pieces)


def time_casevault(matcher: AliasMatcher, text: str) -> tuple[float, int, str]:
    best, count, masked = float("inf"), 0, ""
    for run in range(RUNS):
        tokens: dict[str, str] = {}
        started = time.perf_counter()
        mentions = matcher.find(text)
        masked = mask(text, mentions, tokens)
        best = min(best, time.perf_counter() - started)
        count = len(mentions)
        print(f"    run {run + 1}/{RUNS}: {time.perf_counter() - started:.2f} s", file=sys.stderr, flush=True)
    return best, count, masked


# --- Presidio ----------------------------------------------------------------------------------

class _TimeoutWatch(logging.Handler):
    """Presidio logs, and swallows, a regex that ran past its timeout: results would be missing."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.timeouts = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "timed out" in record.getMessage():
            self.timeouts += 1


def load_presidio():
    """The Presidio pieces, or the reason they cannot be had."""
    try:
        from importlib.metadata import version

        import presidio_analyzer.pattern_recognizer as pattern_module
        from presidio_analyzer import PatternRecognizer
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig
    except Exception as error:  # noqa: BLE001 - any failure to import means: not measured
        return None, f"{type(error).__name__}: {error}"
    pattern_module.REGEX_TIMEOUT_SECONDS = 3600  # its default (60 s) would silently drop results
    watch = _TimeoutWatch()
    logging.getLogger("presidio-analyzer").addHandler(watch)
    return {
        "PatternRecognizer": PatternRecognizer,
        "AnonymizerEngine": AnonymizerEngine,
        "OperatorConfig": OperatorConfig,
        "watch": watch,
        "version": ", ".join(f"{name} {version(name)}" for name in ("presidio-analyzer", "presidio-anonymizer")),
    }, None


def presidio_run(p, recognizer, engine, text: str) -> tuple[float, int]:
    operators = {"PERSON": p["OperatorConfig"]("replace", {"new_value": "<PERSON>"})}
    started = time.perf_counter()
    results = recognizer.analyze(text, entities=["PERSON"], nlp_artifacts=None)
    engine.anonymize(text=text, analyzer_results=results, operators=operators)
    return time.perf_counter() - started, len(results)


def times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def cut(text: str, nbytes: int) -> str:
    """The longest prefix of ``text`` of at most ``nbytes`` UTF-8 bytes."""
    return text.encode()[:nbytes].decode(errors="ignore")


# --- main --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=5.0, help="size of the generated text (MB)")
    parser.add_argument("--presidio-kb", type=int, default=200, help="slice of the text Presidio is timed on (KB)")
    parser.add_argument("--presidio-budget", type=float, default=120.0,
                        help="longest one Presidio run may take (s) before the slice is made smaller")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print("generating names and text ...", file=sys.stderr, flush=True)
    rng = random.Random(args.seed)
    names, surnames, alias_list = make_identities(rng)
    text, written_at = make_text(rng, names, surnames, alias_list, args.mb)
    written = len(written_at)
    megabytes = len(text.encode()) / 1e6
    words = text.count(" ") + text.count("\n")
    print(f"text: {megabytes:.2f} MB, {len(text):,} characters, ~{words:,} words, {written:,} name mentions "
          f"written (one per {words / written:.0f} words) of {IDENTITIES:,} identities; "
          f"alias list: {len(alias_list):,} ({IDENTITIES:,} two-word names + "
          f"{len(alias_list) - IDENTITIES} surnames alone)")

    casevault: dict[int, dict] = {}
    for n in SIZES:
        aliases = [Alias(i, t) for i, t in alias_list[:n]]
        print(f"casevault, {n:,} aliases: building matcher ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        matcher = AliasMatcher(aliases)
        build = time.perf_counter() - started
        best, count, _ = time_casevault(matcher, text)
        casevault[n] = {"build": build, "seconds": best, "mentions": count, "matcher": matcher}
        print(f"casevault, {n:>6,} aliases: build {build:6.3f} s ({matcher.size:,} keys), "
              f"find+mask {best:6.3f} s = {megabytes / best:6.1f} MB/s, {count:,} mentions masked "
              f"(of {sum(at < n for at in written_at):,} written with a registered alias)", flush=True)
    rss_casevault = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # Memory of one find+mask at the largest size, traced apart from the timed runs (tracing slows it).
    print("casevault: tracing memory of one find+mask at 10,000 aliases ...", file=sys.stderr, flush=True)
    biggest = casevault[SIZES[-1]]["matcher"]
    tracemalloc.start()
    mask(text, biggest.find(text), {})
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print("loading Presidio ...", file=sys.stderr, flush=True)
    p, why_not = load_presidio()
    ratios: dict[int, float] = {}
    if p is None:
        print(f"Presidio: not measured, it cannot be imported here ({why_not})")
    else:
        print(f"Presidio: {p['version']}; PatternRecognizer(deny_list) + AnonymizerEngine, no NLP engine")
        engine = p["AnonymizerEngine"]()
        for n in SIZES:
            deny_list = [t for _, t in alias_list[:n]]
            print(f"Presidio, {n:,} aliases: building recognizer ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            recognizer = p["PatternRecognizer"](supported_entity="PERSON", deny_list=deny_list)
            recognizer.analyze("x", entities=["PERSON"], nlp_artifacts=None)  # compiles the regex
            build = time.perf_counter() - started
            wanted = args.presidio_kb * 1000
            # Probe on a tenth of the slice; shrink the slice if one run would exceed the budget.
            probe_bytes = max(1000, wanted // 10)
            probe_seconds, _ = presidio_run(p, recognizer, engine, cut(text, probe_bytes))
            projected = probe_seconds * wanted / probe_bytes
            nbytes = wanted
            if projected > args.presidio_budget:
                nbytes = max(probe_bytes, int(wanted * args.presidio_budget / projected) // 1000 * 1000)
            piece = cut(text, nbytes)
            piece_mb = len(piece.encode()) / 1e6
            runs = RUNS if projected * nbytes / wanted < 10 else 1
            best, found = float("inf"), 0
            for run in range(runs):
                seconds, found = presidio_run(p, recognizer, engine, piece)
                best = min(best, seconds)
                print(f"    run {run + 1}/{runs} on {piece_mb * 1000:.0f} KB: {seconds:.2f} s",
                      file=sys.stderr, flush=True)
            ours = len(casevault[n]["matcher"].find(piece))
            mbps = piece_mb / best
            ratios[n] = (megabytes / casevault[n]["seconds"]) / mbps
            note = "" if nbytes == wanted else (f" (slice cut from {args.presidio_kb} KB: one run there was projected "
                                                f"at {projected:.0f} s)")
            print(f"Presidio,  {n:>6,} aliases: build {build:6.3f} s, analyze+anonymize on the first "
                  f"{piece_mb * 1000:.0f} KB{note}: {best:.3f} s = {mbps:.3f} MB/s (best of {runs}), "
                  f"{found:,} hits there vs casevault's {ours:,}; casevault/Presidio = {times(ratios[n])}", flush=True)
        if p["watch"].timeouts:
            print(f"warning: Presidio's regex timed out {p['watch'].timeouts} time(s); its figures miss those results")

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory: casevault find+mask at 10,000 aliases allocates {traced_peak / 1e6:.0f} MB at peak (tracemalloc, "
          f"for a {megabytes:.1f} MB text); peak RSS {rss_casevault:.0f} MiB after casevault, {rss:.0f} MiB in all")

    top = SIZES[-1]
    mbps_top = megabytes / casevault[top]["seconds"]
    print(f"verdict: 20 MB/s at 10,000 aliases: {'met' if mbps_top >= 20 else 'not met'} ({mbps_top:.1f} MB/s)")
    if ratios:
        per_n = ", ".join(f"{times(ratios[n])} at {n:,}" for n in SIZES)
        met = [f"{n:,}" for n in SIZES if ratios[n] > 100]
        print(f"verdict: >100x Presidio: {'met' if len(met) == len(SIZES) else 'not met'} ({per_n} aliases; "
              f"met at {', '.join(met) or 'no size'})")
    else:
        print("verdict: >100x Presidio: not measured (Presidio unavailable)")


if __name__ == "__main__":
    main()
