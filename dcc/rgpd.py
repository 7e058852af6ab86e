"""The two information texts every FRCP and PPS carries, whatever its format (cahier des charges 2.1.1.3), under
the heading « INFORMATION SUR LES DONNÉES PERSONNELLES VOUS CONCERNANT ». Text 1 may be adapted by the
establishment (under its responsibility); text 2, from the Institut national du cancer, never changes and always
follows text 1."""

HEADING = "INFORMATION SUR LES DONNÉES PERSONNELLES VOUS CONCERNANT"

TEXT_1_DEFAULT = (
    "Les établissements ou professionnels de santé qui mettent en œuvre votre programme thérapeutique et votre "
    "suivi, ainsi que ceux qui assurent vos soins oncologiques de support, collectent, pour accomplir leur travail, "
    "des données concernant votre santé et votre identité. Ces données sont couvertes par le secret médical et sont "
    "strictement confidentielles. Elles sont utilisées sous la responsabilité de ces établissements ou "
    "professionnels de santé que vous pouvez solliciter pour être plus informé ou pour exercer vos droits sur vos "
    "données."
)

TEXT_2 = (
    "Des acteurs de la santé publique sont autorisés à réutiliser certaines de vos données dans le cadre de projets "
    "de recherche pour, par exemple, améliorer les connaissances sur les causes de cancer, étudier le parcours et la "
    "qualité des soins, évaluer les dispositifs de lutte contre le cancer et, plus largement, conduire des études "
    "pour améliorer la prise en charge des patients.\n\n"
    "Dans ce cadre et, sauf opposition de votre part, elles pourront être transmises à certains de ces acteurs, "
    "notamment aux registres des cancers de votre région et à l'Institut national du cancer [INCa]. Elles pourront "
    "ainsi être intégrées à la plateforme de données en cancérologie de l'INCa et, éventuellement, être reliées aux "
    "données du Système national des données de santé (SNDS), aux fins d'études dans le domaine de la cancérologie, "
    "par l'INCa et/ou ses partenaires.\n\n"
    "Pour en savoir plus sur la Plateforme, les études menées et les modalités d'exercice de vos droits d'accès, "
    "d'opposition, de rectification, d'effacement et de limitation sur la Plateforme rendez-vous sur "
    "http://lesdonnees.e-cancer.fr. L'exercice de vos droits, et notamment de votre droit d'opposition, n'aura "
    "aucune conséquence sur votre prise en charge médicale."
)


def texts(establishment_text_1: str | None = None) -> tuple[str, str]:
    """(text 1, text 2) for a document: the establishment's text 1 if it adapted it, else the default one."""
    text_1 = (establishment_text_1 or "").strip() or TEXT_1_DEFAULT
    return text_1, TEXT_2
