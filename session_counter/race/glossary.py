"""The verdict words, defined once: the page's glossary and the terminal's legend both read them.

Each definition says what race/report.py's analyse() (and race/judged.py's reading) count
under that word, in one sentence. N is the number of requests fired at once.
Pure; no I/O.
"""
import re

from .judged import EXACT_NOT_SAFE

# term: (how it appears in a verdict, its definition), in the order analyse() names them.
TERMS = {
    "exact": (r"\bexact(ly \d+\.\.\d+| in \d+ of)",
              "every one of the N requests was answered, the numbers handed out are 1..N, "
              "each to exactly one client, and the counter ended at N (when it could be read)."),
    "error": (r"\berrors?\b",
              "a request that got no number: no answer at all, or an HTTP status other "
              "than 200."),
    "duplicate": (r"\bduplicates?\b",
                  "a number handed out to more than one client; the count is the answers "
                  "beyond the first for each such number (answers minus distinct numbers)."),
    "gap": (r"\bgaps?\b",
            "a number between 1 and the highest number handed out that no client got."),
    "out of range": (r"\bout of range\b",
                     "an answer outside 1..N, which a counter starting at 0 cannot hand out "
                     "to N requests: it went on from an earlier count, or requests other "
                     "than the race's counted too."),
    "lost update": (r"\blost updates?\b",
                    "an increment whose write was overwritten by another write built on the "
                    "same read, so the counter ends lower than the number of increments "
                    "(counted as requests sent minus the final value)."),
    "extra update": (r"\bextra updates?\b",
                     "the counter ended higher than the number of requests sent: something "
                     "incremented it that this race did not send."),
    "process": (r"\bprocess(es)?\b",
                "a server process (pid) that answered; each has its own copy of a module "
                "global, so a counter kept in one counts 1, 2, 3... separately in each."),
    "inconclusive": (r"\binconclusive\b",
                     "a process answered that no reset reached, so its numbers may continue "
                     "an earlier run and the verdict may be wrong."),
    EXACT_NOT_SAFE: (re.escape(EXACT_NOT_SAFE),
                     "the race came out exact on a server the strategy's label does not "
                     "cover: no two requests happened to interleave inside its "
                     "read-modify-write this time, which is luck, not safety."),
    "no answers": (r"\bno answers\b", "not one request got a number back."),
}
GLOSSARY = {term: definition for term, (_, definition) in TERMS.items()}


def terms_in(*texts):
    """Return the glossary's terms that any of ``texts`` uses, in the glossary's order."""
    said = " ".join(text for text in texts if text)
    return [term for term, (pattern, _) in TERMS.items() if re.search(pattern, said)]


def defined(terms):
    """Return [{"term", "definition"}] of ``terms``, for JSON (a list keeps the order)."""
    return [{"term": term, "definition": GLOSSARY[term]} for term in terms]
