"""Cross-check of insight numbers against the profile: finds contradictions, stays quiet otherwise."""

from __future__ import annotations

import pytest

from shared.crosscheck import cross_check, parse_numbers

PROFILE = {
    "rows": 1200,
    "columns": [
        {
            "name": "revenue",
            "type": "numeric",
            "count": 1150,
            "missing": 50,
            "mean": 24613.4,
            "median": 20100.0,
            "std": 5012.0,
            "min": 120.5,
            "max": 98000.0,
            "outliers": 14,
        },
        {
            "name": "discount_rate",
            "type": "numeric",
            "count": 1200,
            "missing": 0,
            "mean": 0.05,
            "median": 0.04,
            "std": 0.01,
            "min": 0.0,
            "max": 0.3,
            "outliers": 3,
        },
        {
            "name": "region",
            "type": "categorical",
            "count": 1200,
            "missing": 0,
            "top_values": [["North", 500], ["South", 400], ["East", 300]],
        },
    ],
}


@pytest.mark.parametrize(
    ("text", "value", "percent"),
    [
        ("24,600", 24600.0, False),
        ("24.6k", 24600.0, False),
        ("$1.2M", 1.2e6, False),
        ("1.2 million", 1.2e6, False),
        ("12.5%", 12.5, True),
        ("0.05", 0.05, False),
        ("-3", -3.0, False),
        ("€98,000.50", 98000.5, False),
    ],
)
def test_numbers_are_read_as_written_in_prose(text, value, percent):
    (n,) = parse_numbers(f"it was {text} overall")
    assert n.value == pytest.approx(value) and n.percent is percent


@pytest.mark.parametrize(
    "insight",
    [
        "The mean revenue is 24,600.",
        "Average revenue was about 24.6k.",
        "The median of revenue is 20,100 and its maximum is 98,000.",
        "The mean discount_rate is 5%.",
        "The mean discount rate is 0.05.",
        "Revenue has 14 outliers by the IQR rule.",
        "Revenue has 50 missing values.",
        "About 4.2% of revenue values are missing.",
        "The dataset has 1,200 rows.",
    ],
)
def test_claims_that_agree_with_the_profile_within_rounding_are_not_flagged(insight):
    assert cross_check([insight], PROFILE, []) == []


@pytest.mark.parametrize(
    ("insight", "fragment"),
    [
        ("The mean revenue is 31,000.", "mean of revenue as 31,000; the profile of every row says 24,613"),
        ("The maximum revenue reached 120k.", "max of revenue as 120k"),
        ("Revenue has 40 outliers.", "40 outliers for revenue; the profile says 14"),
        ("The dataset has 1,500 rows.", "1,500 rows; the profile counts 1200"),
        ("About 10% of revenue values are missing.", "10% missing for revenue"),
    ],
)
def test_contradictions_of_a_named_column_statistic_are_flagged(insight, fragment):
    warnings = cross_check(["First insight without numbers.", insight], PROFILE, [])
    assert len(warnings) == 1 and fragment in warnings[0] and warnings[0].startswith("Insight 2")


@pytest.mark.parametrize(
    "insight",
    [
        "The mean revenue per region is 31,000.",
        "North has the highest average revenue at 31,000.",
        "Mean revenue in 2024 was 31,000.",
        "Revenue grew 35% month over month, peaking at 120k.",
        "The top product earns 31,000 on average of revenue.",
        "Revenue and discount_rate have a mean of 7.",  # two columns: which number is whose is unclear
        "Sales were strong with a mean of 99.",  # no column named
    ],
)
def test_group_period_and_ambiguous_claims_are_not_checked(insight):
    assert cross_check([insight], PROFILE, []) == []


def test_a_contradiction_that_matches_a_code_output_says_so():
    warnings = cross_check(["The mean revenue is 31,000."], PROFILE, ["mean 31000.0\n"])
    assert "the code output has that number" in warnings[0]
