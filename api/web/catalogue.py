"""The server-side texts of the voter's pages, Dutch first and English (plain language, B1).

The pages' script carries its own catalogue (web/src/texts.js, bundled into the booth); what
the server writes itself — the shell around the script and the error pages — is here."""

from __future__ import annotations

from rules.explain import Lang

TEXTS: dict[str, dict[Lang, str]] = {
    "skip": {"nl": "Naar de inhoud", "en": "Skip to the content"},
    "loading": {"nl": "Even geduld…", "en": "Please wait…"},
    "noscript": {
        "nl": "Voor deze pagina is JavaScript nodig: uw browser doet de stappen van het geheime "
        "stemmen zelf. Zet JavaScript aan, of gebruik een andere browser.",
        "en": "This page needs JavaScript: your browser does the steps of secret voting itself. "
        "Turn JavaScript on, or use another browser.",
    },
    "other_lang": {"nl": "English", "en": "Nederlands"},
    "footer": {
        "nl": "Stembus: geheim en controleerbaar online stemmen voor de ondernemingsraad.",
        "en": "Stembus: secret and verifiable online voting for the works council.",
    },
    "console": {"nl": "Console", "en": "Console"},
    "console_noscript": {
        "nl": "Voor de console is JavaScript nodig. Zet JavaScript aan, of gebruik een andere "
        "browser.",
        "en": "The console needs JavaScript. Turn JavaScript on, or use another browser.",
    },
    "console_footer": {
        "nl": "Stembus-console voor de verkiezingscommissie en de beheerder. Alles wat u hier "
        "doet, gaat via de openbare API.",
        "en": "Stembus console for the election committee and the operator. Everything you do "
        "here goes through the public API.",
    },
    "home": {"nl": "Naar de startpagina", "en": "To the start page"},
    "error": {"nl": "Fout", "en": "Error"},
}

ERRORS: dict[int, dict[Lang, tuple[str, str]]] = {
    400: {
        "nl": (
            "Verzoek niet begrepen",
            "Uw browser stuurde een verzoek dat de dienst niet begrijpt.",
        ),
        "en": ("Request not understood", "Your browser sent a request the service cannot read."),
    },
    401: {
        "nl": ("Log eerst in", "Log in met de persoonlijke code uit uw uitnodiging."),
        "en": ("Log in first", "Log in with the personal code from your invitation."),
    },
    403: {
        "nl": ("Geen toegang", "U hebt geen toegang tot deze pagina."),
        "en": ("No access", "You have no access to this page."),
    },
    404: {
        "nl": (
            "Pagina niet gevonden",
            "Deze pagina bestaat niet. Controleer het adres in uw uitnodiging.",
        ),
        "en": (
            "Page not found",
            "This page does not exist. Check the address in your invitation.",
        ),
    },
    405: {
        "nl": ("Dit kan niet", "Deze pagina kan dit verzoek niet uitvoeren."),
        "en": ("Not possible", "This page cannot do this request."),
    },
    413: {
        "nl": ("Te groot", "Wat uw browser stuurde is te groot."),
        "en": ("Too large", "What your browser sent is too large."),
    },
    422: {
        "nl": ("Ongeldig adres", "Dit adres klopt niet. Controleer het adres in uw uitnodiging."),
        "en": (
            "Invalid address",
            "This address is not right. Check the address in your invitation.",
        ),
    },
    429: {
        "nl": ("Even wachten", "U deed te veel pogingen. Wacht even en probeer het opnieuw."),
        "en": ("Please wait", "You made too many attempts. Wait a moment and try again."),
    },
    500: {
        "nl": (
            "Er ging iets mis",
            "Er ging iets mis bij de dienst. Probeer het later opnieuw. Blijft het misgaan, meld "
            "het dan aan de verkiezingscommissie.",
        ),
        "en": (
            "Something went wrong",
            "Something went wrong at the service. Try again later. If it keeps happening, tell "
            "the election committee.",
        ),
    },
    503: {
        "nl": (
            "Even niet bereikbaar",
            "De dienst is even niet bereikbaar. Probeer het zo opnieuw.",
        ),
        "en": ("Briefly unavailable", "The service is briefly unavailable. Try again shortly."),
    },
}


def error_text(status: int, lang: Lang) -> tuple[str, str]:
    """Title and sentence for an HTTP status (a 4xx or 5xx without its own text: the nearest)."""
    if status in ERRORS:
        return ERRORS[status][lang]
    return ERRORS[500 if status >= 500 else 400][lang]
