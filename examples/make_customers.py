"""Generate examples/customers.csv: 2,000 synthetic customers of mixed types.

Deterministic (fixed seed, standard library only), so the committed CSV is reproducible:

    python3 examples/make_customers.py            # writes examples/customers.csv
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

ROWS = 2000
SEED = 20240501

FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
         "Edsger", "Radia", "Donald", "Hedy", "Niklaus", "Sophie", "John", "Mary", "Jean",
         "Katherine", "Tim", "Anita", "Guido", "Bjarne", "Yukihiro", "Ji-woo", "Min-jun",
         "Seo-yeon", "José", "Zoë", "Björn"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie",
        "Allen", "Dijkstra", "Perlman", "Knuth", "Lamarr", "Wirth", "Wilson", "McCarthy",
        "Kenyon", "Sammet", "Johnson", "Berners-Lee", "Borg", "van Rossum", "Stroustrup",
        "Matsumoto", "Kim", "Park", "Lee", "García", "Müller", "Öberg"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "example.co.uk"]
SEGMENTS = [("bronze", 50), ("silver", 30), ("gold", 15), ("platinum", 5)]
COUNTRIES = [("US", 40), ("GB", 15), ("DE", 15), ("KR", 10), ("FR", 10), ("BR", 5), ("JP", 5)]


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _phone(rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0:  # E.164
        return f"+1{rng.randrange(200, 999)}{rng.randrange(200, 999)}{rng.randrange(10000):04d}"
    if style == 1:  # North American national format
        return f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
    return f"{rng.randrange(200, 999)}-{rng.randrange(200, 999)}-{rng.randrange(10000):04d}"


def rows(n: int = ROWS, seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    start = date(2019, 1, 1)
    out: list[dict[str, object]] = []
    for i in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".lower().replace(" ", "").replace("-", "")
        local = local.encode("ascii", "ignore").decode() or f"user{i}"
        signup = start + timedelta(days=rng.randrange(5 * 365))
        last_order = datetime(signup.year, signup.month, signup.day) + timedelta(
            seconds=rng.randrange(400 * 86400)
        )
        orders = max(0, int(rng.expovariate(1 / 6)))
        total = round(sum(rng.uniform(5, 250) for _ in range(orders)), 2)
        out.append(
            {
                "customer_id": i,
                "first_name": first,
                "last_name": last,
                "email": None if rng.random() < 0.04 else f"{local}{rng.randrange(100)}@{rng.choice(DOMAINS)}",
                "phone": None if rng.random() < 0.05 else _phone(rng),
                "country": _weighted(rng, COUNTRIES),
                "segment": _weighted(rng, SEGMENTS),
                "signup_date": signup.isoformat(),
                "last_order_at": None if orders == 0 else last_order.isoformat(),
                "orders": orders,
                "total_spent": None if rng.random() < 0.02 else total,
                "discount_rate": None if rng.random() < 0.5 else round(rng.choice([0.05, 0.1, 0.15, 0.2]), 2),
                "is_active": rng.random() < 0.8,
            }
        )
    return out


def main(path: Path = Path(__file__).with_name("customers.csv")) -> None:
    data = rows()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    print(f"wrote {len(data)} rows to {path}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("customers.csv"))
