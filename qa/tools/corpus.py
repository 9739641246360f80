"""A deterministic synthetic news corpus (the haystack) with the seed articles as the needles.

Every article is about 150 words of template-built news (trade, energy, technology, health,
sport, culture, environment, transport, farming, science, weather) about fictional people and
organisations in real countries, in the header styles of the seeds:

* ` date YYYY-MM-DD By Name`
* ` date YYYY-MM-DD City, Month D, AGENCY`
* ` date YYYY-MM-DD By AGENCY` followed by a `By Name` line
* a headline as the first line, no date
* no header at all

The generator never uses the words of tests/data/haystack_forbidden.txt (the seeds' people,
places and roles, and what the seed sets ask about), so each seed question still has exactly one
right answer, found in a seed file whose name is unchanged.
"""

from __future__ import annotations

import calendar
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.settings import PROJECT_DIR

DEFAULT_SEED = 20240611

# Words the haystack must never contain (checked by `check_text` and the tests): the seeds'
# people, countries, places and roles, and the subjects of the dev set's unanswerable questions.
FORBIDDEN_FILE = PROJECT_DIR / "tests" / "data" / "haystack_forbidden.txt"
FORBIDDEN: tuple[str, ...] = tuple(
    line.strip()
    for line in (
        FORBIDDEN_FILE.read_text(encoding="utf-8").splitlines() if FORBIDDEN_FILE.exists() else []
    )
    if line.strip() and not line.startswith("#")
)
_FORBIDDEN_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w in sorted(FORBIDDEN, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)

COUNTRIES: dict[str, tuple[str, list[str]]] = {
    # country: (adjective, cities)
    "Chile": ("Chilean", ["Santiago", "Valparaiso", "Concepcion", "Antofagasta"]),
    "Portugal": ("Portuguese", ["Lisbon", "Porto", "Braga", "Coimbra"]),
    "Kenya": ("Kenyan", ["Nairobi", "Mombasa", "Kisumu", "Nakuru"]),
    "Vietnam": ("Vietnamese", ["Hanoi", "Da Nang", "Hue", "Can Tho"]),
    "Canada": ("Canadian", ["Toronto", "Vancouver", "Halifax", "Calgary"]),
    "Norway": ("Norwegian", ["Oslo", "Bergen", "Tromso", "Stavanger"]),
    "Ghana": ("Ghanaian", ["Accra", "Kumasi", "Tamale", "Takoradi"]),
    "Peru": ("Peruvian", ["Lima", "Cusco", "Arequipa", "Trujillo"]),
    "Indonesia": ("Indonesian", ["Jakarta", "Surabaya", "Bandung", "Medan"]),
    "Poland": ("Polish", ["Warsaw", "Krakow", "Gdansk", "Wroclaw"]),
    "Morocco": ("Moroccan", ["Rabat", "Casablanca", "Fez", "Tangier"]),
    "New Zealand": ("New Zealand", ["Auckland", "Wellington", "Christchurch", "Dunedin"]),
    "Argentina": ("Argentine", ["Buenos Aires", "Cordoba", "Rosario", "Mendoza"]),
    "Finland": ("Finnish", ["Helsinki", "Tampere", "Turku", "Oulu"]),
    "Thailand": ("Thai", ["Bangkok", "Chiang Mai", "Phuket", "Khon Kaen"]),
    "Ireland": ("Irish", ["Dublin", "Cork", "Galway", "Limerick"]),
    "Senegal": ("Senegalese", ["Dakar", "Thies", "Ziguinchor", "Kaolack"]),
    "Uruguay": ("Uruguayan", ["Montevideo", "Salto", "Paysandu", "Rivera"]),
    "Mexico": ("Mexican", ["Guadalajara", "Monterrey", "Puebla", "Merida"]),
    "Japan": ("Japanese", ["Osaka", "Sapporo", "Fukuoka", "Sendai"]),
    "Brazil": ("Brazilian", ["Recife", "Curitiba", "Manaus", "Salvador"]),
    "Spain": ("Spanish", ["Valencia", "Seville", "Bilbao", "Malaga"]),
    "Colombia": ("Colombian", ["Medellin", "Cali", "Cartagena", "Barranquilla"]),
    "Tanzania": ("Tanzanian", ["Arusha", "Mwanza", "Dodoma", "Tanga"]),
    "Malaysia": ("Malaysian", ["Penang", "Ipoh", "Kuching", "Johor Bahru"]),
    "Denmark": ("Danish", ["Aarhus", "Odense", "Aalborg", "Esbjerg"]),
}

FIRST_NAMES = (
    "Amara Lucia Tomas Ingrid Kwame Mei Rafael Sofia Daniel Aiko Mateo Elena Oluwaseun Hanna "
    "Joaquin Priya Liam Camila Kofi Astrid Diego Nadia Hiroshi Beatriz Samuel Freya Emeka Marta "
    "Lars Valentina Tariq Clara Ngozi Felipe Yuki Ana Magnus Rosa Chidi Julia Erik Paula Kenji "
    "Isabel Arjun Sara Olav Lucas Wanjiru Teresa Nils Gabriela Sione Marisol Henrik Leilani "
    "Bruno Catalina Fatou Anders Noor Pedro Ewa Rangi Simone Akira Nora Javier Mariam"
).split()
LAST_NAMES = (
    "Okafor Lindqvist Moreau Tanaka Mensah Castillo Haugen Nguyen Fernandes Kowalski Otieno "
    "Rahman Silva Johansson Duarte Sato Boateng Herrera Virtanen Santos Nakamura Achieng Ruiz "
    "Larsen Mwangi Costa Quispe Halvorsen Pereira Watanabe Asante Navarro Nieminen Ibarra Osei "
    "Kimura Alvarez Nyambura Sorensen Ferreira Wisniewski Diallo Mendoza Takahashi Owusu Lopes "
    "Korhonen Vargas Ndiaye Holm Salazar Murphy Brennan Tupou Ramos Matsumoto Kariuki Eriksen "
    "Gomez Sharma Wojcik Cardoso Appiah Lehtonen Fuentes Yamamoto Chanda"
).split()
AGENCIES = (
    "Atlas News,Meridian Press,Global Wire,Harbor Press,CPN,Northline,Pacific Desk,NWS,"
    "Continental Newswire,Daily Ledger"
).split(",")
ORG_KINDS = (
    "Institute for Coastal Research,Water Authority,Rail Company,Grid Operator,Chamber of Commerce,"
    "Farmers Union,Teachers Association,Heritage Trust,Space Agency,Housing Fund,Port Authority,"
    "Statistics Office,Weather Service,Film Institute,Football Federation,Health Service,"
    "Science Council,Forestry Agency,Energy Cooperative,Transport Board"
).split(",")
COMPANY_WORDS = (
    "Blue Harbor,Northwind,Solara,Greenfield,Tidewater,Brightline,Redwood,Silverpeak,Quantis,"
    "Orchid,Summit,Keystone,Lumen,Cobalt,Evergreen,Horizon,Polaris,Meadow,Granite,Aurora"
).split(",")
COMPANY_KINDS = (
    "Systems Foods Logistics Energy Robotics Textiles Pharma Motors Labs Networks".split()
)
ORG_ROLES = (
    "director,deputy director,spokesperson,head of research,chair,vice chair,"
    "chief economist,board member,programme manager,senior analyst,regional coordinator"
).split(",")
COMPANY_ROLES = (
    "chief executive,chief financial officer,head of operations,chief engineer,spokesperson,"
    "founder,sales director,project manager,head of research"
).split(",")
PRODUCTS = (
    "coffee,copper,salmon,avocados,wine,textiles,timber,cocoa,rice,tea,wool,electronics,"
    "furniture,flowers,cheese,steel pipes,bicycles,solar panels,cotton,sugar"
).split(",")
RIVERS = "Silver,Black Stone,Willow,Red Clay,Long Reed,Eastwater,Heron,Old Mill".split(",")
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday".split()
HEADER_STYLES = ("by", "dateline", "agency-by", "headline", "bare")
WORDS_MIN, WORDS_MAX = 115, 160  # body words: most articles fit one 192-token chunk


@dataclass
class _Scene:
    """The cast of one article, drawn once so sentences refer to the same people and places."""

    country: str
    adj: str
    city: str
    city2: str
    person: str  # speaks for `org` as `role`
    surname: str
    role: str
    person2: str  # speaks for `company` as `role2`
    surname2: str
    role2: str
    player: str
    reporter: str
    org: str
    company: str
    company2: str
    product: str
    river: str
    year: int
    month: str
    day: int
    weekday: str
    agency: str


def _name(rng: random.Random) -> tuple[str, str]:
    last = rng.choice(LAST_NAMES)
    return f"{rng.choice(FIRST_NAMES)} {last}", last


def _scene(rng: random.Random, year: int, month: int, day: int) -> _Scene:
    country = rng.choice(sorted(COUNTRIES))
    adj, cities = COUNTRIES[country]
    city, city2 = rng.sample(cities, 2)
    cast: list[tuple[str, str]] = []
    while len(cast) < 4:
        name = _name(rng)
        if all(name[1] != other[1] for other in cast):
            cast.append(name)
    (person, surname), (person2, surname2), (player, _), (reporter, _) = cast
    return _Scene(
        country=country,
        adj=adj,
        city=city,
        city2=city2,
        person=person,
        surname=surname,
        role=rng.choice(ORG_ROLES),
        person2=person2,
        surname2=surname2,
        role2=rng.choice(COMPANY_ROLES),
        player=player,
        reporter=reporter,
        org=f"{adj} {rng.choice(ORG_KINDS)}",
        company=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}",
        company2=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}",
        product=rng.choice(PRODUCTS),
        river=rng.choice(RIVERS),
        year=year,
        month=calendar.month_name[month],
        day=day,
        weekday=rng.choice(WEEKDAYS),
        agency=rng.choice(AGENCIES),
    )


Filler = Callable[[random.Random, _Scene], str]


def _pct(rng: random.Random) -> str:
    return f"{rng.randint(2, 48)}.{rng.randint(0, 9)} percent"


def _money(rng: random.Random) -> str:
    unit = "billion" if rng.random() < 0.15 else "million"
    top = 900 if unit == "million" else 40
    return f"${rng.randint(2, top)}.{rng.randint(1, 9)} {unit}"


def _money_small(rng: random.Random) -> str:
    return f"${rng.randint(20, 990)},000"


def _n(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high):,}"


@dataclass(frozen=True)
class _Story:
    """One kind of news story: headline, lead, the sentence introducing `person`, details."""

    topic: str
    headline: Filler
    lead: Filler
    intro: Filler
    details: tuple[Filler, ...]


def _choice(*options: str) -> Callable[[random.Random], str]:
    return lambda r: r.choice(options)


_REGION = _choice("Europe", "Asia", "North America", "the Gulf", "West Africa", "South America")
_FOCUS = _choice("payment systems", "mapping software", "medical imaging", "logistics planning")

STORIES: tuple[_Story, ...] = (
    _Story(
        "trade",
        lambda r, s: (
            f"{s.country} {s.product} exports rise for a "
            f"{r.choice(['second', 'third', 'fourth'])} year"
        ),
        lambda r, s: (
            f"Exports of {s.product} from {s.country} rose {_pct(r)} in the first "
            f"{r.choice(['quarter', 'half'])} of {s.year} to {_money(r)}, the {s.org} said on "
            f"{s.weekday}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said demand from buyers in "
            f"{_REGION(r)} had been stronger than expected."
        ),
        (
            lambda r, s: (
                f"Shipments through the port of {s.city2} reached {_n(r, 120, 990)} "
                f"containers in {s.month}, up from {_n(r, 80, 400)} a year earlier."
            ),
            lambda r, s: (
                f"Analysts at {s.company2} expect growth to slow to {_pct(r)} next "
                "year as freight costs climb."
            ),
            lambda r, s: (
                f"Growers around {s.city} have added {_n(r, 200, 9000)} hectares of "
                "plantings since the last season."
            ),
        ),
    ),
    _Story(
        "trade",
        lambda r, s: f"{s.company} signs {s.product} supply deal in {s.city}",
        lambda r, s: (
            f"{s.company}, a {s.city}-based producer of {s.product}, has signed a "
            f"{r.randint(3, 12)}-year supply agreement worth {_money(r)} with {s.company2}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role2} of {s.company}, said the contract would secure "
            f"{_n(r, 100, 2000)} jobs in {s.city}."
        ),
        (
            lambda r, s: (
                f"The agreement covers {_n(r, 10, 900)} tonnes of {s.product} a month "
                f"and includes an option to extend it until {s.year + r.randint(5, 9)}."
            ),
            lambda r, s: (
                f"Deliveries will start in {s.month} {s.year + 1} from a warehouse in {s.city2}."
            ),
            lambda r, s: (
                f"The {s.org} said the deal was the largest of its kind in {s.country} "
                f"since {s.year - r.randint(4, 12)}."
            ),
        ),
    ),
    _Story(
        "energy",
        lambda r, s: f"Solar farm near {s.city} starts supplying the grid",
        lambda r, s: (
            f"A {r.randint(20, 480)}-megawatt solar farm near {s.city} began "
            f"supplying electricity on {s.month} {s.day}, the {s.org} said."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said the plant would power about "
            f"{_n(r, 20000, 400000)} homes."
        ),
        (
            lambda r, s: (
                f"Electricity tariffs in {s.country} fell {_pct(r)} last winter as "
                "renewable output grew."
            ),
            lambda r, s: (
                f"Battery storage with a capacity of {r.randint(10, 200)} "
                "megawatt-hours will be added in a second phase."
            ),
            lambda r, s: (
                f"The panels were installed by {s.company} on land leased from "
                f"{_n(r, 20, 300)} farming families."
            ),
        ),
    ),
    _Story(
        "energy",
        lambda r, s: f"{s.company} to build wind turbines off {s.city2}",
        lambda r, s: (
            f"{s.company} will invest {_money(r)} in {r.randint(12, 90)} offshore "
            f"wind turbines near {s.city2}, the company announced on {s.weekday}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role2} of {s.company}, said construction would take "
            f"{r.randint(14, 40)} months and employ {_n(r, 200, 3000)} workers."
        ),
        (
            lambda r, s: (
                f"The wind farm is expected to cut emissions by {_n(r, 50, 900)},000 tonnes a year."
            ),
            lambda r, s: (
                f"The {s.org} approved the project after a consultation that drew "
                f"{_n(r, 300, 9000)} responses."
            ),
            lambda r, s: (
                f"Fishing groups in {s.city2} asked for compensation during the building work."
            ),
        ),
    ),
    _Story(
        "technology",
        lambda r, s: f"{s.company} opens software centre in {s.city}",
        lambda r, s: (
            f"{s.company} said on {s.weekday} it would hire {_n(r, 80, 1500)} "
            f"engineers for a new software centre in {s.city} by the end of {s.year}."
        ),
        lambda r, s: (
            f"{s.person}, the firm's {s.role2}, said the centre would focus on {_FOCUS(r)}."
        ),
        (
            lambda r, s: f"The company's revenue grew {_pct(r)} last year to {_money(r)}.",
            lambda r, s: (
                f"The {s.org} has promised grants of up to {_money(r)} for firms that "
                "train local staff."
            ),
            lambda r, s: f"{s.company} already employs {_n(r, 200, 5000)} people in {s.city2}.",
        ),
    ),
    _Story(
        "technology",
        lambda r, s: f"{s.adj} start-up raises funds for delivery robots",
        lambda r, s: (
            f"A {s.city}-based start-up building delivery robots, {s.company}, has "
            f"raised {_money(r)} from investors led by {s.company2}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role2} of {s.company}, said the money would pay for "
            f"{_n(r, 100, 2000)} more robots."
        ),
        (
            lambda r, s: (
                f"Its robots have completed {_n(r, 10000, 900000)} deliveries in "
                f"{s.city2} since a trial began in {s.month} {s.year - 1}."
            ),
            lambda r, s: (
                f"The {s.org} will review safety rules for pavement robots in {s.year + 1}."
            ),
            lambda r, s: (
                f"Each robot carries up to {r.randint(8, 40)} kilograms and travels "
                f"at {r.randint(4, 9)} kilometres an hour."
            ),
        ),
    ),
    _Story(
        "health",
        lambda r, s: f"{s.city} opens {r.randint(3, 20)} new community clinics",
        lambda r, s: (
            f"Health authorities in {s.city} opened {r.randint(3, 20)} community "
            f"clinics on {s.month} {s.day}, aiming to shorten waiting times for routine care."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said each clinic would see about "
            f"{r.randint(40, 300)} patients a day."
        ),
        (
            lambda r, s: (
                f"The programme will cost {_money(r)} over {r.randint(2, 6)} years "
                f"and will be funded partly by {s.company}."
            ),
            lambda r, s: (
                f"Average waiting times fell from {r.randint(20, 60)} days to "
                f"{r.randint(5, 19)} days during a pilot in {s.city2}."
            ),
            lambda r, s: (
                f"Nurses trained in {s.city2} will staff mobile units covering "
                f"{r.randint(30, 300)} villages."
            ),
        ),
    ),
    _Story(
        "health",
        lambda r, s: f"Measles vaccination drive reaches rural {s.country}",
        lambda r, s: (
            f"More than {_n(r, 20000, 800000)} people in rural districts of "
            f"{s.country} have been vaccinated against measles since {s.month}, the {s.org} said."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said {_pct(r)} of children under "
            "five had now received both doses."
        ),
        (
            lambda r, s: f"Vaccines are stored in solar-powered fridges supplied by {s.company}.",
            lambda r, s: (
                f"Teams travelled to {r.randint(30, 400)} villages around {s.city2} by "
                "boat and motorbike."
            ),
            lambda r, s: (
                f"Cases fell from {r.randint(300, 900)} to {r.randint(10, 99)} over "
                "the same period."
            ),
        ),
    ),
    _Story(
        "sport",
        lambda r, s: f"{s.city} United win the {s.adj} national cup",
        lambda r, s: (
            f"{s.city} United beat {s.city2} Rovers {r.randint(1, 4)}-"
            f"{r.randint(0, 1)} in the {s.adj} national cup final on {s.month} {s.day}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.adj} Football Federation, said "
            f"{_n(r, 10000, 60000)} tickets had been sold for the final."
        ),
        (
            lambda r, s: (
                f"Striker {s.player} scored twice in the second half after coming on as a "
                f"substitute in the {r.randint(55, 75)}th minute."
            ),
            lambda r, s: (
                f"The club will receive prize money of {_money_small(r)} and a place in "
                "next season's continental tournament."
            ),
            lambda r, s: (
                f"It was the club's {r.choice(['first', 'second', 'third', 'fifth'])} "
                f"cup in {r.randint(8, 40)} seasons."
            ),
        ),
    ),
    _Story(
        "sport",
        lambda r, s: f"Marathon in {s.city} draws record field",
        lambda r, s: (
            f"A record {_n(r, 8000, 45000)} runners took part in the {s.city} "
            f"marathon on {s.weekday}, organisers said."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the organising committee, said "
            f"{_money_small(r)} had been raised for charity."
        ),
        (
            lambda r, s: (
                f"{s.player} won the race in 2 hours {r.randint(5, 15)} minutes, "
                f"{r.randint(10, 90)} seconds ahead of the runner-up."
            ),
            lambda r, s: f"The course ran from the old harbour to the {s.river} bridge and back.",
            lambda r, s: f"Next year's race will be held on {s.month} {s.day}.",
        ),
    ),
    _Story(
        "culture",
        lambda r, s: f"{s.city} film festival opens with {r.randint(60, 300)} films",
        lambda r, s: (
            f"The {s.city} International Film Festival opened on {s.month} {s.day} "
            f"with {r.randint(60, 300)} films from {r.randint(20, 70)} countries."
        ),
        lambda r, s: (
            f"{s.person}, the festival's {s.role}, said a documentary about fishing "
            f"families in {s.city2} would close the programme."
        ),
        (
            lambda r, s: (
                f"Organisers expect {_n(r, 20000, 150000)} visitors over {r.randint(5, 12)} days."
            ),
            lambda r, s: (
                f"Tickets went on sale in {s.month} and {_pct(r)} were sold in the first week."
            ),
            lambda r, s: f"The main prize carries an award of {_money(r)}, paid by {s.company}.",
        ),
    ),
    _Story(
        "culture",
        lambda r, s: f"Restored theatre reopens in {s.city}",
        lambda r, s: (
            f"A {r.randint(90, 220)}-year-old theatre in {s.city} reopened on "
            f"{s.weekday} after a restoration that cost {_money(r)}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said the building now seats "
            f"{_n(r, 300, 1800)} people."
        ),
        (
            lambda r, s: (
                f"The first season includes {r.randint(12, 60)} productions, among "
                f"them a new play by writers from {s.city2}."
            ),
            lambda r, s: f"Craftsmen from {s.company} rebuilt the painted ceiling by hand.",
            lambda r, s: f"The theatre had been closed since {s.year - r.randint(3, 12)}.",
        ),
    ),
    _Story(
        "environment",
        lambda r, s: f"Volunteers plant trees along the {s.river} River",
        lambda r, s: (
            f"Volunteers planted {_n(r, 5000, 200000)} trees along the {s.river} "
            f"River near {s.city} in {s.month}, the {s.org} said."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said the planting would reduce "
            f"flooding in {s.city2}."
        ),
        (
            lambda r, s: (
                f"The work is funded by a {_money(r)} grant and a donation from {s.company}."
            ),
            lambda r, s: (
                f"River water quality has improved by {_pct(r)} since monitoring "
                f"began in {s.year - r.randint(3, 10)}."
            ),
            lambda r, s: (
                f"Saplings were grown in nurseries run by {r.randint(5, 60)} local schools."
            ),
        ),
    ),
    _Story(
        "environment",
        lambda r, s: f"{s.country} expands marine reserve near {s.city}",
        lambda r, s: (
            f"{s.country} has expanded a marine reserve near {s.city} to "
            f"{_n(r, 300, 9000)} square kilometres, banning trawling in its core zone."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said patrol boats would begin "
            f"monitoring the area in {s.month}."
        ),
        (
            lambda r, s: (
                f"Surveys found {r.randint(40, 300)} species of fish and "
                f"{r.randint(5, 40)} species of coral inside the reserve."
            ),
            lambda r, s: f"Fishing crews from {s.city2} will receive {_money(r)} in support.",
            lambda r, s: f"Divers recorded a {_pct(r)} rise in fish numbers in the old zone.",
        ),
    ),
    _Story(
        "transport",
        lambda r, s: f"New rail line links {s.city} and {s.city2}",
        lambda r, s: (
            f"A {r.randint(40, 600)}-kilometre rail line between {s.city} and {s.city2} "
            f"opened on {s.month} {s.day}, cutting the journey to {r.randint(1, 4)} hours."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said trains would run every "
            f"{r.randint(15, 90)} minutes at peak times."
        ),
        (
            lambda r, s: (
                f"Construction was carried out by {s.company} and took {r.randint(2, 7)} years."
            ),
            lambda r, s: (
                f"Fares start at {r.randint(5, 60)} dollars, and {_pct(r)} of seats "
                "are reserved for commuters."
            ),
            lambda r, s: (
                f"The line has {r.randint(4, 30)} stations and {r.randint(2, 40)} bridges."
            ),
        ),
    ),
    _Story(
        "transport",
        lambda r, s: f"{s.city} airport to add a second runway",
        lambda r, s: (
            f"{s.city} airport will build a second runway at a cost of {_money(r)}, "
            f"the {s.org} said on {s.weekday}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said the runway would open in "
            f"{s.year + r.randint(2, 5)}."
        ),
        (
            lambda r, s: f"The airport handled {_n(r, 2, 40)} million passengers last year.",
            lambda r, s: f"Residents near {s.city2} road have asked for limits on night flights.",
            lambda r, s: f"{s.company} won the contract for the new terminal building.",
        ),
    ),
    _Story(
        "farming",
        lambda r, s: f"{s.country} wheat harvest beats forecasts",
        lambda r, s: (
            f"{s.country}'s wheat harvest reached {r.randint(2, 30)}."
            f"{r.randint(0, 9)} million tonnes this season, beating forecasts, the {s.org} said."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said good spring rains had lifted "
            f"yields by {_pct(r)}."
        ),
        (
            lambda r, s: (
                f"Grain prices at the {s.city2} exchange fell {_pct(r)} after the "
                "harvest figures were published."
            ),
            lambda r, s: f"Storage sites around {s.city} are {_pct(r)} full.",
            lambda r, s: f"{s.company} plans to buy {_n(r, 50, 900)},000 tonnes for its mills.",
        ),
    ),
    _Story(
        "farming",
        lambda r, s: f"Farmers near {s.city} switch to drip irrigation",
        lambda r, s: (
            f"About {_n(r, 500, 9000)} farmers near {s.city} have switched to drip "
            f"irrigation since {s.month} {s.year - 1}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said water use on the farms had "
            f"dropped by {_pct(r)}."
        ),
        (
            lambda r, s: (
                f"The irrigation systems were supplied by {s.company} with loans "
                f"totalling {_money(r)}."
            ),
            lambda r, s: (
                f"A survey of {r.randint(50, 400)} holdings found higher yields of {s.product}."
            ),
            lambda r, s: f"Farmers in {s.city2} will be offered the same loans next year.",
        ),
    ),
    _Story(
        "science",
        lambda r, s: f"{s.city} researchers map deep-sea volcano",
        lambda r, s: (
            f"Researchers at the {s.org} in {s.city} have mapped an undersea volcano "
            f"{_n(r, 800, 4000)} metres below the surface, they said on {s.weekday}."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said the data would improve tsunami warnings."
        ),
        (
            lambda r, s: (
                f"The team used an underwater drone that spent {r.randint(10, 90)} "
                "hours collecting measurements."
            ),
            lambda r, s: f"Findings will be shared with laboratories in {s.city2}.",
            lambda r, s: f"The survey was paid for by {s.company} and cost {_money(r)}.",
        ),
    ),
    _Story(
        "science",
        lambda r, s: f"{s.adj} weather satellite sends first images",
        lambda r, s: (
            f"A weather satellite built by {s.company} sent its first images on "
            f"{s.month} {s.day}, {r.randint(3, 20)} days after launch."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, said the images would improve storm forecasts."
        ),
        (
            lambda r, s: (
                f"The satellite weighs {_n(r, 80, 900)} kilograms and will orbit at "
                f"{r.randint(400, 900)} kilometres."
            ),
            lambda r, s: (
                f"A ground station in {s.city2} will receive its data every "
                f"{r.randint(10, 90)} minutes."
            ),
            lambda r, s: f"The project cost {_money(r)} over {r.randint(3, 8)} years.",
        ),
    ),
    _Story(
        "weather",
        lambda r, s: f"Heavy rain floods streets in {s.city}",
        lambda r, s: (
            f"Heavy rain flooded streets in {s.city} on {s.weekday}, with "
            f"{r.randint(60, 300)} millimetres falling in {r.randint(6, 48)} hours, the {s.org} "
            "said."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, urged residents of {s.city2} to avoid travel."
        ),
        (
            lambda r, s: (
                f"About {_n(r, 1000, 60000)} homes lost power and {r.randint(5, 90)} "
                "schools were closed."
            ),
            lambda r, s: (
                f"Emergency crews pumped water from {r.randint(20, 400)} buildings overnight."
            ),
            lambda r, s: f"Forecasters expect drier weather within {r.randint(2, 6)} days.",
        ),
    ),
    _Story(
        "weather",
        lambda r, s: f"Heatwave grips {s.city} and {s.city2}",
        lambda r, s: (
            f"Temperatures in {s.city} reached {r.randint(38, 46)} degrees Celsius on "
            f"{s.month} {s.day}, the highest reading there in {r.randint(10, 60)} years."
        ),
        lambda r, s: (
            f"{s.person}, {s.role} of the {s.org}, advised people to stay indoors "
            "during the afternoon."
        ),
        (
            lambda r, s: (
                f"Demand for electricity rose {_pct(r)} as air conditioners ran around the clock."
            ),
            lambda r, s: f"Cooling centres opened in {r.randint(10, 80)} libraries in {s.city2}.",
            lambda r, s: f"Forecasters expect cooler air to arrive within {r.randint(2, 6)} days.",
        ),
    ),
)

# Sentences that fit any story: the intro's speaker quoted again, a second voice, background.
_SPEAKER: tuple[Filler, ...] = (
    lambda r, s: (
        f"“This is a practical step that people in {s.city} will notice quickly,” {s.surname} said."
    ),
    lambda r, s: (
        f"“There is still work to do, but the direction is clear,” {s.surname} told reporters."
    ),
    lambda r, s: f"{s.surname} said the next review would take place in {s.month} {s.year + 1}.",
    lambda r, s: (
        f"“We have planned this for {r.randint(2, 9)} years and the numbers are "
        f"finally on our side,” {s.surname} said."
    ),
    lambda r, s: (
        f"{s.surname} added that progress would be reported every "
        f"{r.choice(['month', 'quarter', 'six months'])}."
    ),
)
_SECOND_VOICE: tuple[Filler, ...] = (
    lambda r, s: (
        f"Critics, including {s.person2}, {s.role2} of {s.company2}, said the plan did "
        "not go far enough."
    ),
    lambda r, s: f"{s.person2}, {s.role2} at {s.company2}, called the news “long overdue”.",
    lambda r, s: (
        f"“We will be watching the results closely,” said {s.person2}, {s.role2} of {s.company2}."
    ),
)
_BACKGROUND: tuple[Filler, ...] = (
    lambda r, s: (
        f"Officials in {s.city2} said they would publish a full report within "
        f"{r.randint(2, 12)} weeks."
    ),
    lambda r, s: (
        f"{s.city} has grown quickly over the past decade, with new housing on its outskirts."
    ),
    lambda r, s: f"Similar schemes are being considered in {s.city2}.",
    lambda r, s: f"Figures for {s.month} will be released next month.",
    lambda r, s: f"Public hearings on the plan were held in {s.city2} in {s.month}.",
    lambda r, s: f"A representative of {s.company2} declined to comment.",
    lambda r, s: f"The announcement came a week after {s.company2} reported weaker sales.",
    lambda r, s: f"Local councillors in {s.city} called for an independent audit of the costs.",
    lambda r, s: f"The {s.org} has about {_n(r, 200, 9000)} staff across {s.country}.",
    lambda r, s: f"Local newspapers in {s.city2} have followed the project closely.",
)


def _body(rng: random.Random, scene: _Scene, story: _Story, words: int) -> str:
    sentences = [story.lead(rng, scene), story.intro(rng, scene)]
    pool = [
        *story.details,
        *rng.sample(_SPEAKER, 2),
        rng.choice(_SECOND_VOICE),
        *rng.sample(_BACKGROUND, 4),
    ]
    rng.shuffle(pool)
    for make in pool:
        if sum(len(x.split()) for x in sentences) >= words:
            break
        sentences.append(make(rng, scene))
    paragraphs: list[str] = []
    while sentences:
        take = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[:take]))
        sentences = sentences[take:]
    return "\n\n".join(paragraphs)


def generate_article(rng: random.Random) -> str:
    """One article's full text, header included, ending in a newline."""
    year, month, day = rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 28)
    scene = _scene(rng, year, month, day)
    story = rng.choice(STORIES)
    body = _body(rng, scene, story, rng.randint(WORDS_MIN, WORDS_MAX))
    date = f"{year:04d}-{month:02d}-{day:02d}"
    style = rng.choices(HEADER_STYLES, [3, 3, 1, 2, 1])[0]
    if style == "by":
        return f" date {date} By {scene.reporter}\n\n{body}\n"
    if style == "dateline":
        return f" date {date} {scene.city}, {scene.month} {day}, {scene.agency}\n\n{body}\n"
    if style == "agency-by":
        return f" date {date} By {scene.agency}\n\n\n\nBy {scene.reporter}\n\n{body}\n"
    if style == "headline":
        return f"{story.headline(rng, scene)}\n\n{body}\n"
    return f"{body}\n"


def check_text(text: str) -> None:
    """Raise ValueError if a generated text mentions anything the seeds are the sole source of."""
    hit = _FORBIDDEN_RE.search(text)
    if hit:
        raise ValueError(f"generated text mentions {hit.group(0)!r}: {text[:80]!r}")


def generate_texts(n: int, seed: int = DEFAULT_SEED) -> list[tuple[str, str]]:
    """(file name, text) of `n` generated articles; the same seed gives the same bytes."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for i in range(n):
        text = generate_article(rng)
        check_text(text)
        out.append((f"n{i:05d}_{rng.getrandbits(64):016x}.txt", text))
    return out


def write_corpus(
    folder: Path, n: int, *, seeds_dir: Path | None = None, seed: int = DEFAULT_SEED
) -> int:
    """Write `n` generated articles plus the seed articles (same file names) into `folder`.

    The folder is emptied of article files first; returns the number of article files written.
    """
    from qa.settings import Settings

    seeds_dir = seeds_dir or Settings().seeds_dir
    seed_files = sorted(p for p in seeds_dir.glob("*") if p.suffix in (".txt", ".md"))
    if not seed_files:
        raise ValueError(f"no seed articles in {seeds_dir}")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.is_file() and old.suffix in (".txt", ".md"):
            old.unlink()
    written = 0
    for name, text in generate_texts(n, seed):
        (folder / name).write_bytes(text.encode("utf-8"))
        written += 1
    for path in seed_files:
        shutil.copyfile(path, folder / path.name)
        written += 1
    return written
