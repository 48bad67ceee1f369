#!/usr/bin/env python3
"""campaign_gen.py - labelled synthetic phishing campaigns for Shield (issue 4).

Usage: campaign_gen.py OUTDIR [--campaigns N] [--seed S] [--noise N] [--copies K]

Writes OUTDIR/msg-NNNNNN.eml and OUTDIR/truth.tsv (file -> campaign label;
noise messages get a label of their own). Each campaign picks a brand, a
language (en, nl, fr, de), a lure template and its own infrastructure, and
then varies every copy the way real campaigns do:
  - personalised names and e-mail addresses in the greeting and subject,
  - per-recipient URLs on the same host (random path token and query),
  - sender domains rotated from a small per-campaign pool, random local parts,
  - numbers (order, case, amount) and dates that change per copy,
  - a shared-infrastructure footer (facebook, bit.ly, fonts) that must not
    glue unrelated campaigns,
  - several campaigns per brand with different lures and hosts.
Dates: each campaign runs a burst of a few hours; Date headers follow it.
--copies K scales the set with mutated copies (benchmarks).
"""
import argparse, os, random, string, email.utils, time

FIRST = ["Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Greta", "Hugo", "Iris", "Jan",
         "Kees", "Lotte", "Marie", "Noah", "Olga", "Pieter", "Quinten", "Rosa", "Sophie",
         "Thomas", "Ute", "Victor", "Wim", "Xavier", "Yara", "Zoé", "Lukas", "Mila", "Jonas"]
LAST = ["Janssens", "Peeters", "Maes", "Dubois", "Müller", "Schmidt", "de Vries", "Bakker",
        "Martin", "Bernard", "Jacobs", "Mertens", "Lambert", "Wouters", "Fischer", "Weber"]
BRANDS = ["PayPal", "DHL", "bpost", "KBC", "ING", "Microsoft", "Netflix", "Belfius", "PostNL",
          "Amazon", "Apple", "DPD", "Itsme", "Proximus", "Telenet"]

LURES = {
 "en": [
  ("Your {brand} account has been limited #{n}",
   "Dear {name},\n\nWe noticed unusual activity on your {brand} account on {date}. "
   "To keep your account safe we have temporarily limited access. Please confirm your "
   "identity within 48 hours or your account will be suspended.\n\nConfirm now: {url}\n\n"
   "Reference: {n}\nThank you for being a valued {brand} customer.\nThe {brand} Security Team"),
  ("{name}, your parcel {n} is waiting",
   "Hello {name},\n\nYour {brand} parcel {n} could not be delivered because customs fees of "
   "EUR {amt} are unpaid. Pay the outstanding amount today to schedule a new delivery "
   "date. After 3 days the parcel is returned to the sender.\n\nPay and track: {url}\n\n"
   "Kind regards,\n{brand} Customer Service"),
  ("Invoice {n} for {name} overdue",
   "Hi {name},\n\nAttached you find invoice {n} of EUR {amt}. Our records show it is still "
   "open. Please review the document on our secure portal and settle it to avoid "
   "collection costs.\n\nView invoice: {url}\n\nAccounts receivable, {brand}"),
  ("Action required: mailbox storage full for {email}",
   "Dear user {email},\n\nYour mailbox has reached 99% of its storage quota. Incoming "
   "messages will be rejected from {date}. Upgrade your storage for free by validating your "
   "account with the {brand} administrator portal.\n\nValidate: {url}\n\nIT Helpdesk"),
 ],
 "nl": [
  ("Uw {brand} pakket {n} wacht op betaling",
   "Beste {name},\n\nUw pakket met nummer {n} kon niet worden afgeleverd omdat er nog "
   "EUR {amt} invoerrechten openstaan. Betaal vandaag om een nieuwe bezorgdatum te kiezen. "
   "Na drie dagen gaat het pakket terug naar de afzender.\n\nBetalen: {url}\n\n"
   "Met vriendelijke groet,\n{brand} Klantenservice"),
  ("Beveiligingsmelding voor {name}: bevestig uw gegevens",
   "Geachte {name},\n\nWij hebben verdachte aanmeldingen op uw {brand} rekening vastgesteld "
   "op {date}. Om misbruik te voorkomen is uw toegang tijdelijk beperkt. Bevestig uw "
   "gegevens binnen 24 uur via onderstaande link.\n\nBevestigen: {url}\n\nDossier {n}\n"
   "{brand} Veiligheidsdienst"),
  ("Uw {brand} abonnement wordt opgeschort",
   "Hallo {name},\n\nWe konden de laatste betaling van EUR {amt} voor uw abonnement niet "
   "verwerken. Werk uw betaalgegevens bij om onderbreking te voorkomen.\n\n"
   "Gegevens bijwerken: {url}\n\nKlantnummer {n}\nHet {brand} team"),
 ],
 "fr": [
  ("{brand} : votre colis {n} est en attente",
   "Bonjour {name},\n\nVotre colis {n} n'a pas pu être livré car des frais de douane de "
   "{amt} EUR restent impayés. Réglez le montant aujourd'hui pour choisir une nouvelle date "
   "de livraison. Passé trois jours, le colis sera renvoyé à l'expéditeur.\n\n"
   "Payer : {url}\n\nCordialement,\nService client {brand}"),
  ("Alerte de sécurité pour {name}",
   "Cher client {name},\n\nNous avons détecté une connexion inhabituelle à votre espace "
   "{brand} le {date}. Votre accès est temporairement suspendu. Veuillez vérifier votre "
   "identité dans les 48 heures.\n\nVérifier : {url}\n\nRéférence {n}\nL'équipe {brand}"),
 ],
 "de": [
  ("Ihr {brand} Paket {n} wartet auf Zahlung",
   "Hallo {name},\n\nIhr Paket {n} konnte nicht zugestellt werden, da Zollgebühren von "
   "{amt} EUR offen sind. Bitte bezahlen Sie heute, um einen neuen Liefertermin zu wählen. "
   "Nach drei Tagen geht das Paket an den Absender zurück.\n\nJetzt bezahlen: {url}\n\n"
   "Mit freundlichen Grüßen\n{brand} Kundenservice"),
  ("Sicherheitshinweis für {name}: Konto eingeschränkt",
   "Sehr geehrte(r) {name},\n\nwir haben am {date} ungewöhnliche Anmeldungen in Ihrem "
   "{brand} Konto festgestellt. Ihr Zugang wurde vorübergehend eingeschränkt. Bitte "
   "bestätigen Sie Ihre Identität innerhalb von 48 Stunden.\n\nBestätigen: {url}\n\n"
   "Vorgang {n}\nIhr {brand} Sicherheitsteam"),
 ],
}
TLDS = ["com", "net", "info", "online", "top", "xyz", "shop", "site", "live", "click"]
FOOTERS = ["\n\nFollow us: https://www.facebook.com/{b}  https://bit.ly/{s}\n",
           "\n\n<https://fonts.googleapis.com/css?family=Roboto>\n", "\n", "\n",
           "\n\nUnsubscribe: https://t.co/{s}\n"]


def rword(rng, n):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def rtok(rng, n):
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def make_campaigns(rng, n):
    out = []
    for i in range(n):
        lang = rng.choice(["en", "en", "nl", "nl", "fr", "de"])
        subj, body = rng.choice(LURES[lang])
        brand = rng.choice(BRANDS)
        host = "%s-%s.%s" % (brand.lower(), rword(rng, rng.randint(5, 9)), rng.choice(TLDS))
        path = "/" + rng.choice(["secure", "verify", "login", "pay", "track", "account"])
        senders = ["%s.%s" % (rword(rng, rng.randint(6, 10)), rng.choice(TLDS))
                   for _ in range(rng.randint(1, 5))]
        size = max(2, int(rng.paretovariate(1.2) * 3))
        size = min(size, 300)
        out.append(dict(label="gen-%04d" % i, lang=lang, subj=subj, body=body, brand=brand,
                        host=host, path=path, senders=senders, size=size,
                        start=1700000000 + rng.randint(0, 30 * 86400),
                        spread=rng.randint(600, 6 * 3600),
                        reply_prefix=rng.random() < 0.2))
    return out


def render(rng, c, t, to_name, to_mail):
    n = str(rng.randint(10000, 99999999))
    url = "https://%s%s/%s?id=%s" % (
        (rtok(rng, 6).lower() + "." + c["host"]) if rng.random() < 0.3 else c["host"],
        c["path"], rtok(rng, 12), rtok(rng, 8))
    date = time.strftime("%d/%m/%Y", time.gmtime(t))
    kw = dict(brand=c["brand"], name=to_name, email=to_mail, n=n, url=url, date=date,
              amt="%d,%02d" % (rng.randint(1, 99), rng.randint(0, 99)))
    subj = c["subj"].format(**kw)
    if c["reply_prefix"] and rng.random() < 0.3:
        subj = rng.choice(["RE: ", "Fwd: ", "AW: "]) + subj
    body = c["body"].format(**kw) + rng.choice(FOOTERS).format(b=c["brand"].lower(),
                                                                 s=rtok(rng, 7))
    dom = rng.choice(c["senders"])
    sender = "%s <%s@%s>" % (c["brand"], rword(rng, rng.randint(4, 9)), dom)
    return subj, body, sender


def noise(rng, t):
    words = ("offer win free prize crypto invest profit click today limited exclusive deal "
             "bonus casino dating pills weight loss loan cash fast easy money gift card "
             "survey reward lottery").split()
    subj = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7))).capitalize()
    body = " ".join(rng.choice(words) for _ in range(rng.randint(20, 80)))
    host = "%s.%s" % (rword(rng, 8), rng.choice(TLDS))
    body += "\n\nhttps://%s/%s\n" % (host, rtok(rng, 10))
    sender = "<%s@%s.%s>" % (rword(rng, 5), rword(rng, 7), rng.choice(TLDS))
    return subj, body, sender


def write(path, subj, body, sender, to, t):
    hdr = email.header.Header(subj, "utf-8").encode()
    msg = ("From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@gen>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\n%s\n") % (
               sender, to, hdr, email.utils.formatdate(t), os.path.basename(path), body)
    with open(path, "w", encoding="utf-8") as f:
        f.write(msg)


def main():
    import email.header  # noqa: F401
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--campaigns", type=int, default=60)
    ap.add_argument("--noise", type=int, default=100)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--copies", type=int, default=0, help="total messages (scaled)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    camps = make_campaigns(rng, a.campaigns)
    items = []
    for c in camps:
        for _ in range(c["size"]):
            items.append((c["start"] + rng.randint(0, c["spread"]), c))
    for i in range(a.noise):
        items.append((1700000000 + rng.randint(0, 30 * 86400), None))
    if a.copies and a.copies > len(items):
        base = list(items)
        while len(items) < a.copies:
            t, c = rng.choice(base)
            items.append((t + rng.randint(0, 3600), c))
    rng.shuffle(items)
    with open(os.path.join(a.out, "truth.tsv"), "w") as tf:
        tf.write("# file\tcampaign\n")
        for i, (t, c) in enumerate(items):
            to_name = "%s %s" % (rng.choice(FIRST), rng.choice(LAST))
            to_mail = "%s.%s@%s" % (to_name.split()[0].lower(), rword(rng, 5),
                                    rng.choice(["telenet.be", "gmail.com", "skynet.be", "outlook.com"]))
            if c is None:
                subj, body, sender = noise(rng, t)
                label = "noise-%06d" % i
            else:
                subj, body, sender = render(rng, c, t, to_name, to_mail)
                label = c["label"]
            name = "msg-%06d.eml" % i
            write(os.path.join(a.out, name), subj, body, sender, to_mail, t)
            tf.write("%s\t%s\n" % (name, label))


if __name__ == "__main__":
    main()
