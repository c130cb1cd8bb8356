"""Tables, words and small helpers for `_stranger.py`'s marketplace: countries and their
zones, names, the freelancers' phrasing of cover letters and portfolio items, random draws,
token and Parquet writing. Written from the data contract and general knowledge, apart from
`synthetic/`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# claimed country: (weight, [(IANA zone, weight), ...]) for the honest population
COUNTRIES: dict[str, tuple[float, list[tuple[str, float]]]] = {
    "US": (16, [("America/New_York", .5), ("America/Chicago", .25), ("America/Denver", .07),
                ("America/Los_Angeles", .18)]),
    "IN": (13, [("Asia/Kolkata", 1)]), "PK": (6, [("Asia/Karachi", 1)]),
    "PH": (7, [("Asia/Manila", 1)]), "BD": (5, [("Asia/Dhaka", 1)]),
    "UA": (5, [("Europe/Kyiv", 1)]), "GB": (4, [("Europe/London", 1)]),
    "CA": (3, [("America/Toronto", .7), ("America/Vancouver", .3)]),
    "DE": (2, [("Europe/Berlin", 1)]), "PL": (3, [("Europe/Warsaw", 1)]),
    "NG": (4, [("Africa/Lagos", 1)]), "KE": (3, [("Africa/Nairobi", 1)]),
    "BR": (3, [("America/Sao_Paulo", 1)]), "AR": (2, [("America/Argentina/Buenos_Aires", 1)]),
    "ES": (2, [("Europe/Madrid", 1)]), "RO": (2, [("Europe/Bucharest", 1)]),
    "VN": (2, [("Asia/Ho_Chi_Minh", 1)]), "EG": (3, [("Africa/Cairo", 1)]),
    "MX": (2, [("America/Mexico_City", 1)]), "CO": (2, [("America/Bogota", 1)]),
    "ID": (2, [("Asia/Jakarta", 1)]), "NP": (1, [("Asia/Kathmandu", 1)]),
    "LK": (1, [("Asia/Colombo", 1)]), "RS": (2, [("Europe/Belgrade", 1)]),
    "TR": (1, [("Europe/Istanbul", 1)]), "FR": (1, [("Europe/Paris", 1)]),
    "AU": (1, [("Australia/Sydney", .7), ("Australia/Perth", .3)]),
    "MY": (1, [("Asia/Kuala_Lumpur", 1)]), "CN": (.5, [("Asia/Shanghai", 1)]),
    "JP": (.5, [("Asia/Tokyo", 1)]), "KR": (.4, [("Asia/Seoul", 1)]),
    "RU": (1, [("Europe/Moscow", 1)]), "KZ": (.4, [("Asia/Almaty", 1)]),
}
# where people live or travel when it is not their profile's country
ABROAD: dict[str, str] = {
    "TH": "Asia/Bangkok", "ID": "Asia/Makassar", "PT": "Europe/Lisbon",
    "MX": "America/Mexico_City", "CO": "America/Bogota", "AE": "Asia/Dubai",
    "VN": "Asia/Ho_Chi_Minh", "GE": "Asia/Tbilisi", "ES": "Europe/Madrid",
    "MY": "Asia/Kuala_Lumpur", "TW": "Asia/Taipei", "IT": "Europe/Rome", "GR": "Europe/Athens",
    "US": "America/New_York", "GB": "Europe/London", "JP": "Asia/Tokyo", "TR": "Europe/Istanbul",
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney", "FR": "Europe/Paris",
}
EXPAT_CLAIMS = ("GB", "US", "DE", "CA", "AU", "FR")
EXPAT_HOMES = ("TH", "ID", "PT", "MX", "CO", "AE", "VN", "GE", "ES", "MY", "TW")
FRONT_CLAIMS = {"US": .45, "CA": .1, "GB": .12, "DE": .08, "UA": .1, "PL": .08, "JP": .07}
# the operators' place: (zone, country its IPs geolocate to); +480, +540, +180
OPERATORS = (("Asia/Shanghai", "CN", .5), ("Asia/Pyongyang", "CN", .3),
             ("Europe/Moscow", "RU", .2))
VPN_EXITS = ("NL", "DE", "US", "SE", "CH", "GB", "SG", "JP", "CA", "FR", "RO", "PA")
HOSTING = ("US", "DE", "NL", "SG", "FR", "FI", "GB")
PROXY = ("US", "GB", "DE", "CA", "NL", "FR", "RU")
FRONT_PAYOUT_ABROAD = ("HK", "CN", "AE", "SG", "RU", "KH", "LA", "MY")
CRYPTO_ABROAD = ("SG", "AE", "EE", "LT", "MT", "SC", "HK", "US")
HONEST_TOOLS = (("teamviewer", .45), ("anydesk", .4), ("chrome remote desktop", .1),
                ("splashtop", .05))
FARM_TOOLS = (("anydesk", .3), ("teamviewer", .2), ("rustdesk", .2),
              ("chrome remote desktop", .15), ("pikvm", .1), ("tinypilot", .05))

IP_TYPES = ("residential", "mobile", "business", "hosting", "vpn", "proxy", "tor", "unknown")
POOL_ASN = (16509, 14061, 24940, 16276, 63949, 20473, 9009, 60068, 212238)
OP_ASN = {"CN": (4134, 4837, 9808), "RU": (12389, 8359, 31213)}
KINDS, KIND_P = ("message", "proposal", "time_log", "other"), (.44, .1, .28, .18)
FIRST = ("James Maria Ahmed Olena Wei Priya Carlos Fatima John Anna Mohammed Sarah Ivan Ana "
         "David Aisha Michael Laura Daniel Chinedu Grace Luis Emily Andrii Kevin Nadia Rahul "
         "Sofia Omar Jessica Tomasz Linh Brian Amina Diego Kateryna Ryan Zainab Mark Elena "
         "Joseph Hannah Arjun Lucas Mary Yusuf Chris Julia Peter Noor").split()
LAST = ("Smith Garcia Khan Kovalenko Chen Sharma Rodriguez Ali Johnson Nowak Hassan Brown "
        "Petrenko Silva Williams Okafor Miller Lopez Davis Nguyen Wilson Kumar Martin Popescu "
        "Anderson Mwangi Taylor Fernandez Thomas Ibrahim Moore Kowalski Jackson Perez White "
        "Shevchenko Harris Santos Clark Rahman Lewis Gomez Walker Tanaka Young Mendoza Hall "
        "Reyes Allen Novak").split()

FIELDS: dict[str, tuple[list[str], list[str]]] = {
    "web": (["React", "Node.js", "Django", "Laravel", "Vue", "Next.js", "TypeScript", "PHP",
             "WordPress", "Ruby on Rails"],
            ["web app", "landing page", "dashboard", "REST API", "e-commerce store",
             "SaaS platform", "admin panel", "Shopify store"]),
    "mobile": (["Flutter", "React Native", "Swift", "Kotlin", "Firebase"],
               ["mobile app", "iOS app", "Android app", "booking app", "fitness app"]),
    "data": (["Python", "pandas", "SQL", "Power BI", "Tableau", "machine learning", "Excel"],
             ["data pipeline", "report", "dashboard", "scraper", "forecasting model"]),
    "design": (["Figma", "Photoshop", "Illustrator", "UI/UX", "Webflow"],
               ["logo", "brand identity", "website design", "app mockup", "pitch deck"]),
    "writing": (["SEO writing", "copywriting", "editing", "technical writing", "research"],
                ["blog series", "product description set", "whitepaper", "newsletter"]),
    "devops": (["AWS", "Docker", "Kubernetes", "Terraform", "CI/CD", "Linux"],
               ["cloud migration", "deployment pipeline", "server setup", "monitoring stack"]),
    "va": (["data entry", "customer support", "lead generation", "Google Sheets", "CRM"],
           ["lead list", "inbox cleanup", "product upload", "CRM update"]),
}
IT_FIELDS = ("web", "mobile", "devops", "data")
GREETINGS = ("Hi,", "Hello,", "Dear Client,", "Hi there!", "Hello Hiring Manager,",
             "Greetings,", "Hey,", "Good day,", "Hi, hope you are doing well.", "Dear Sir/Madam,",
             "Hello there,", "Hi team,")
OPENERS = ("I can build your {job} with {skill}.", "Your {job} is exactly what I do every day.",
           "I read your post about the {job} and I am interested.",
           "I would love to help with your {job}.", "I have just finished a similar {job}.",
           "Building a {job} in {skill} is my main work.",
           "This {job} looks like a great fit for my {skill} background.",
           "I can start on the {job} today.", "I am a {skill} specialist and your {job} "
           "caught my eye.", "Let me take care of your {job}.")
SENTENCES = (
    "I have {years} years of experience with {skill} and {skill2}.",
    "Last month I delivered a {job} for a client in a similar niche.",
    "My focus is clean, maintainable {skill} code.", "I always write tests before shipping.",
    "I communicate daily and share progress on every milestone.",
    "I can work in your time zone for meetings.", "Quality matters more to me than speed.",
    "You can see related work in my portfolio.", "I am comfortable with {skill2} as well.",
    "I usually split the work into small milestones so you can review early.",
    "I will ask a few questions first so that nothing is missed.",
    "Fixed price or hourly both work for me.", "I know {skill} inside out.",
    "My last {job} went live in two weeks.", "I enjoy turning rough ideas into a {job}.",
    "Most of my clients hire me again.", "I can also help with {skill2} if needed.",
    "I have worked with startups and agencies.", "I document everything I hand over.",
    "Happy to do a short call to discuss the details.",
    "I pay close attention to deadlines.", "English is my working language every day.",
    "I have {years}+ years in this field.", "Performance and accessibility are my priorities.",
    "I can show you a demo before we start.", "I keep the code easy for your team to extend.",
    "I like clear requirements, but I can help write them too.",
    "I recently finished a {job} using {skill} and {skill2}.",
)
BOILERPLATE = ("I have read your job description carefully.",
               "Please check my profile for reviews.", "Looking forward to hearing from you.",
               "Feel free to message me with any questions.", "Thank you for your time.",
               "I am available to start immediately.")
CLOSINGS = ("Best regards,", "Thanks,", "Kind regards,", "Cheers,", "Regards,",
            "Thank you,", "Best,", "Looking forward,", "Sincerely,", "All the best,")
HOSTS = ("github.com", "behance.net", "dribbble.com", "gitlab.com", "medium.com")
ADJ = ("Modern", "Responsive", "Custom", "Minimal", "Scalable", "Fast", "Secure", "Clean")
CLIENTS = ("a startup", "a dental clinic", "a real estate agency", "a nonprofit", "a gym",
           "an online shop", "a law firm", "a travel agency", "a restaurant", "a school")


def chunks(rng: np.random.Generator, k: int, lo: int, hi: int, median: float) -> list[int]:
    """Sizes (lo..hi, lognormal around median) adding up to k: households, studios, cells."""
    sizes: list[int] = []
    while sum(sizes) < k:
        sizes.append(int(np.clip(round(rng.lognormal(np.log(median), .5)), lo, hi)))
    if sizes:
        sizes[-1] -= sum(sizes) - k
        if sizes[-1] < lo and len(sizes) > 1:
            last = sizes.pop()
            sizes[-1] += last
    return sizes


def pick(rng: np.random.Generator, table: dict | tuple, size: int | None = None):
    """Draw from {value: weight} or ((value, weight), ...)."""
    items = list(table.items()) if isinstance(table, dict) else [t[:2] for t in table]
    w = np.array([x[1] for x in items], float)
    i = rng.choice(len(items), size, p=w / w.sum())
    return items[i][0] if size is None else np.array([x[0] for x in items])[i]


def flip(rng: np.random.Generator, phash: int, most: int) -> str:
    """The same picture re-encoded: up to `most` of the 64 bits flipped."""
    for b in rng.choice(64, int(rng.integers(0, most + 1)), replace=False):
        phash ^= 1 << int(b)
    return f"{phash:016x}"


def tokens(ids: np.ndarray, salt: int) -> pa.Array:
    """Keyed-hash-looking tokens (16 hex chars) for integer ids; a negative id is null."""
    ids = np.asarray(ids, np.int64)
    u, inv = np.unique(ids, return_inverse=True)
    h = (u.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    return pa.array([f"{v:016x}" for v in h.tolist()]).take(pa.array(inv, mask=ids < 0))


def write(folder: Path, name: str, columns: dict, order: np.ndarray | None = None) -> None:
    """One contract table, rows in `order` (an export's order) when given."""
    table = pa.table(columns)
    table = table.take(pa.array(order)) if order is not None else table
    pq.write_table(table, folder / f"{name}.parquet", compression="zstd")


class Persona:
    """One freelancer's (or cell's) way of writing."""

    def __init__(self, rng: np.random.Generator, first: str, field: str) -> None:
        skills, jobs = FIELDS[field]
        self.first, self.skills, self.jobs = first, skills, jobs
        self.greet = GREETINGS[rng.integers(len(GREETINGS))]
        self.close = CLOSINGS[rng.integers(len(CLOSINGS))]
        self.own = [SENTENCES[i] for i in rng.choice(len(SENTENCES), 6, replace=False)]
        self.opener = [OPENERS[i] for i in rng.choice(len(OPENERS), 3, replace=False)]
        self.years = int(rng.integers(2, 12))
        self.boiler = float(rng.uniform(0, .8))
        self.handle = f"{first.lower()}{rng.integers(10, 999)}"

    def fill(self, rng: np.random.Generator, text: str) -> str:
        a, b = rng.choice(len(self.skills), 2, replace=False)
        return text.format(skill=self.skills[a], skill2=self.skills[b], years=self.years,
                           job=self.jobs[rng.integers(len(self.jobs))])

    def cover(self, rng: np.random.Generator) -> str:
        parts = [self.greet, self.fill(rng, self.opener[rng.integers(3)])]
        parts += [self.fill(rng, self.own[i]) for i in rng.choice(6, rng.integers(1, 4),
                                                                  replace=False)]
        if rng.random() < self.boiler:
            parts.append(BOILERPLATE[rng.integers(len(BOILERPLATE))])
        return " ".join(parts) + f"\n{self.close}\n{self.first}"

    def template(self, rng: np.random.Generator) -> str:
        """A fixed letter with the writer's name, skill and years left as slots."""
        body = " ".join(self.own[:4]).replace("{skill2}", self.skills[1])
        return (f"{self.greet} {self.opener[0]} {body} {BOILERPLATE[0]}"
                .replace("{job}", self.jobs[0]) + f"\n{self.close}\n{{name}}")

    def item(self, rng: np.random.Generator) -> tuple[str, str, str]:
        """A portfolio item: url, title, description."""
        job = self.jobs[rng.integers(len(self.jobs))]
        slug = job.replace(" ", "-").lower() + f"-{rng.integers(1, 99)}"
        host = rng.integers(len(HOSTS) + 1)
        url = (f"https://{self.handle}.dev/{slug}" if host == len(HOSTS)
               else f"https://{HOSTS[host]}/{self.handle}/{slug}")
        title = f"{ADJ[rng.integers(len(ADJ))]} {job} for {CLIENTS[rng.integers(len(CLIENTS))]}"
        return url, title, self.fill(rng, SENTENCES[rng.integers(len(SENTENCES))])
