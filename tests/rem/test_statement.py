"""The statement parser: the REM's wording (1.6.2.2) as a tree; property tests over generated statements."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rem.statement import ClauseKind, normalise, parse

REAL = {
    # INS/va1.59 (Ségur vague 2 socle)
    "Si l'identité n'est pas au statut \"identité qualifiée\", alors le système NE DOIT PAS transmettre le "
    "matricule INS et son OID : seuls les traits sont transmis.": [
        (ClauseKind.CONDITION, "l'identité n'est pas au statut \"identité qualifiée\""),
        (ClauseKind.PROHIBITION, "transmettre le matricule INS et son OID : seuls les traits sont transmis"),
    ],
    # DMP/CONF.09
    "Le système DOIT permettre de tracer l'opposition du patient pour l'alimentation du DMP. Il DOIT bloquer les "
    "transactions d'alimentation au DMP lorsque cette opposition du patient est enregistrée.": [
        (ClauseKind.OBLIGATION, "permettre de tracer l'opposition du patient pour l'alimentation du DMP"),
        (
            ClauseKind.OBLIGATION,
            "bloquer les transactions d'alimentation au DMP lorsque cette opposition du patient est enregistrée",
        ),
    ],
    # MSS/CDA.01 (ANS template row): a SI written "S'il" and no ALORS
    "Le système vérifie au moment de la récupération du document que le numéro de document unique ne figure pas "
    "déjà dans le système. S'il existe déjà dans la même version, le système ne DOIT pas intégrer": [
        (
            ClauseKind.CONTEXT,
            "Le système vérifie au moment de la récupération du document que le numéro de document unique ne figure "
            "pas déjà dans le système",
        ),
        (ClauseKind.CONDITION, "il existe déjà dans la même version"),
        (ClauseKind.PROHIBITION, "intégrer"),
    ],
}


def flat(statement):
    return [(c.kind, c.text) for c in statement.walk()]


def test_real_statements():
    for text, expected in REAL.items():
        assert flat(parse(text)) == expected, text


def test_trigger_with_two_consequences_keeps_the_subject():
    statement = parse(
        "LORSQUE un PPS est validé, ALORS le système DOIT le transmettre et PEUT notifier le médecin."
    )
    (trigger,) = statement.clauses
    assert trigger.kind is ClauseKind.TRIGGER and trigger.text == "un PPS est validé"
    assert [(c.kind, c.subject, c.text) for c in trigger.then] == [
        (ClauseKind.OBLIGATION, "le système", "le transmettre"),
        (ClauseKind.RECOMMENDATION, "le système", "notifier le médecin"),
    ]
    assert statement.modality is ClauseKind.OBLIGATION
    assert statement.triggers == (trigger,)


def test_modality_prefers_the_strongest_verb():
    assert parse("Le système PEUT proposer X.").modality is ClauseKind.RECOMMENDATION
    assert parse("Le système PEUT X. Il NE DOIT PAS Y.").modality is ClauseKind.PROHIBITION
    assert parse("Le système propose X.").modality is None


WORDS = st.sampled_from(
    [
        "le",
        "document",
        "patient",
        "transmettre",
        "PPS",
        "FRCP",
        "validé",
        "matricule",
        "INS",
        "qualifiée",
        "DMP",
        "messagerie",
        "tracer",
        "journal",
        "version",
        "statut",
        "au",
        "du",
    ]
)
phrase = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
SUBJECTS = st.sampled_from(["le système", "Le système DCC", "la plateforme régionale"])
MODALS = st.sampled_from(
    [
        ("DOIT", ClauseKind.OBLIGATION),
        ("NE DOIT PAS", ClauseKind.PROHIBITION),
        ("PEUT", ClauseKind.RECOMMENDATION),
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["", "SI", "LORSQUE"]),
    phrase,
    SUBJECTS,
    st.lists(st.tuples(MODALS, phrase), min_size=1, max_size=3),
)
def test_generated_statements_parse_back_to_their_structure(opener, condition, subject, actions):
    body = " et ".join(f"{verb} {action}" for (verb, _), action in actions)
    consequence = f"{subject} {body}"
    text = f"{opener} {condition}, ALORS {consequence}." if opener else f"{consequence}."
    statement = parse(text)
    modal = [
        (c.kind, c.subject, c.text)
        for c in statement.walk()
        if c.kind in (ClauseKind.OBLIGATION, ClauseKind.PROHIBITION, ClauseKind.RECOMMENDATION)
    ]
    assert modal == [(kind, subject, action) for (_, kind), action in actions]
    if opener:
        (head,) = statement.clauses
        assert head.kind is (ClauseKind.CONDITION if opener == "SI" else ClauseKind.TRIGGER)
        assert head.text == condition


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_fails_and_normalise_is_idempotent(text):
    parse(text)
    assert normalise(normalise(text)) == normalise(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(phrase, min_size=1, max_size=5),
    st.lists(st.sampled_from([" ", "  ", "\n", "\u00a0", "\t"]), min_size=5, max_size=5),
)
def test_whitespace_is_never_drift_but_words_are(words, spaces):
    original = " ".join(words)
    retyped = "".join(w + spaces[i % len(spaces)] for i, w in enumerate(words))
    assert normalise(retyped) == normalise(original)
    assert normalise(original + " modifié") != normalise(original)


def test_typographic_quotes_fold():
    assert normalise("l’identité « qualifiée »") == 'l\'identité " qualifiée "'
