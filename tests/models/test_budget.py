"""The training plan: budget, check interval, early stopping, and the account of what ran."""

from __future__ import annotations

import pytest

from models.budget import MAX_STEPS_PER_CHECK, MIN_STEPS_PER_CHECK, outcome, plan_training


def test_default_on_a_small_table_checks_every_100_steps_up_to_the_cap():
    plan = plan_training(560, 128)  # 5 steps a pass
    assert plan.steps_per_check == MIN_STEPS_PER_CHECK and plan.max_steps == 10_000
    assert plan.patience == 10 and plan.budget == "10,000 steps (training.max_steps)"


def test_default_on_a_million_examples_is_still_capped():
    plan = plan_training(800_000, 128)  # 6,250 steps a pass
    assert plan.steps_per_check == MAX_STEPS_PER_CHECK and plan.max_steps == 10_000


def test_a_mid_sized_table_checks_once_a_pass():
    plan = plan_training(64_000, 128)
    assert plan.steps_per_check == 500 and plan.checks == 20


def test_epochs_are_passes_over_the_training_split_checked_each_pass():
    plan = plan_training(1000, 128, epochs=30)
    assert (plan.steps_per_check, plan.checks) == (8, 30)
    assert plan.budget == "30 epochs of 8 steps (training.epochs)"


def test_train_steps_without_early_stopping_runs_them_all():
    plan = plan_training(2400, 128, train_steps=2000, early_stopping=False)
    assert plan.max_steps == 2000 and plan.patience is None
    assert plan_training(2400, 128, train_steps=50).max_steps == 50  # fewer steps than one check


def test_train_steps_not_a_multiple_of_the_interval_runs_within_a_step_per_check():
    plan = plan_training(2400, 128, train_steps=2050)
    assert 2050 <= plan.max_steps < 2050 + plan.checks


def test_an_empty_training_split_is_an_error():
    with pytest.raises(ValueError, match="training split is empty"):
        plan_training(0, 128)


def test_outcome_says_how_many_steps_ran_and_why_training_stopped():
    plan = plan_training(560, 128)
    early = outcome(plan, checks_run=16, best_check=6, train_examples=560, batch_size=128)
    assert early.steps == 1600 and early.stopped_early and early.best_step == 600
    assert early.describe() == ("1,600 steps (366 epochs); stopped early: the eval loss stopped improving "
                                "after step 600, whose weights were kept; budget 10,000 steps (training.max_steps)")
    full = outcome(plan, checks_run=100, best_check=100, train_examples=128_000, batch_size=128,
                   counted_whole=False)
    assert not full.stopped_early and full.epochs is None
    assert full.describe() == "10,000 steps; ran its whole budget, 10,000 steps (training.max_steps)"


def test_a_warm_started_run_without_a_budget_is_capped_at_warm_start_max_steps():
    plan = plan_training(200_000, 128, warm_start_max_steps=2000)  # 1,563 steps a pass
    assert (plan.steps_per_check, plan.checks, plan.patience) == (1000, 2, 10)
    assert plan.budget == "2,000 steps (training.warm_start_max_steps)"
    small = plan_training(560, 128, warm_start_max_steps=2000)  # checks as often as a cold start
    assert (small.steps_per_check, small.max_steps) == (MIN_STEPS_PER_CHECK, 2000)


def test_a_budget_given_holds_for_a_warm_started_run_too():
    assert plan_training(2400, 128, train_steps=5000, warm_start_max_steps=2000).max_steps == 5000
    assert plan_training(1000, 128, epochs=30, warm_start_max_steps=2000).budget == \
        "30 epochs of 8 steps (training.epochs)"
