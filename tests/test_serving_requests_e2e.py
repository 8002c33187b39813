"""The pushed model given bad requests: each is a clear error or a documented behaviour, never a crash.

Loads the model the shared default run pushed (synthetic data: one feature
``x``, a vector of 100 floats) in this process, sends each bad request, and
checks that the same process still answers a good request with the same
scores afterwards. Unknown and missing categories are covered on the sample
CSV in ``test_e2e_own_data.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from conftest import serving_versions

pytestmark = pytest.mark.e2e


def _example(x=None) -> bytes:
    example = tf.train.Example()
    if x is not None:
        example.features.feature["x"].float_list.value.extend(x)
    return example.SerializeToString()


GOOD = _example([0.1] * 100)


@pytest.fixture(scope="module")
def serve(default_run):
    (version,) = serving_versions(default_run.output_dir)
    model = tf.saved_model.load(str(version))
    signature = model.signatures["serving_default"]
    return lambda examples: {k: v.numpy() for k, v in signature(examples=tf.constant(examples, tf.string)).items()}


@pytest.fixture(scope="module")
def good_scores(serve):
    scores = serve([GOOD])
    assert sorted(scores) == ["y1", "y2"] and all(np.isfinite(v).all() for v in scores.values())
    return scores


@pytest.mark.parametrize("request_bytes, message", [
    (b"\x08\x01 this is not a tf.Example", "parse"),
    (_example(), "x"),                    # the only input is missing
    (_example([0.1] * 99), "x"),          # a vector one value short
    (_example([0.1] * 101), "x"),         # one value too many
    (_example([np.nan] + [0.1] * 99), "feature 'x' holds a NaN or an infinity"),
    (_example([0.1] * 99 + [np.inf]), "feature 'x' holds a NaN or an infinity"),
    (_example([-np.inf] * 100), "feature 'x' holds a NaN or an infinity"),
], ids=["malformed", "missing-feature", "short-vector", "long-vector", "nan", "inf", "minus-inf"])
def test_bad_request_is_a_clear_error_and_the_model_still_serves(serve, good_scores, request_bytes, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve([GOOD, request_bytes])  # one bad example fails the whole batch
    after = serve([GOOD])
    for task, value in good_scores.items():
        np.testing.assert_array_equal(after[task], value)


def test_empty_batch_gives_empty_outputs(serve, good_scores):
    scores = serve([])
    assert {task: value.shape for task, value in scores.items()} == {"y1": (0, 1), "y2": (0, 1)}
    np.testing.assert_array_equal(serve([GOOD])["y1"], good_scores["y1"])


# --- the same table against the model data/sample.yaml pushes (CSV columns, "?" tokens) ----------

def _sample_example(skip=(), **values) -> bytes:
    """A sample request with every numeric value a float; ``values`` override, ``skip`` leaves out."""
    row = {"age": 30.0, "visits": 4.0, "tenure_months": 24.0, "region": "west", "device": "mobile",
           "plan": "basic", "balance": 0.0, **values}
    example = tf.train.Example()
    for key, value in row.items():
        if key in skip:
            continue
        feature = example.features.feature[key]
        if isinstance(value, str):
            feature.bytes_list.value.append(value.encode())
        elif isinstance(value, list):
            feature.float_list.value.extend(value)
        else:
            feature.float_list.value.append(value)
    return example.SerializeToString()


SAMPLE_GOOD = _sample_example()


@pytest.fixture(scope="module")
def serve_sample(sample_run):
    (version,) = serving_versions(sample_run.output_dir)
    signature = tf.saved_model.load(str(version)).signatures["serving_default"]
    return lambda examples: {k: v.numpy() for k, v in signature(examples=tf.constant(examples, tf.string)).items()}


def test_sample_request_with_floats_and_an_optional_column_left_out_is_answered(serve_sample):
    # tenure_months holds "?" cells in the CSV and age only whole numbers: both are floats here.
    scores = serve_sample([SAMPLE_GOOD, _sample_example(skip=("tenure_months",)), _sample_example(age=25.5)])
    assert sorted(scores) == ["churned", "purchased", "spend"]
    assert all(v.shape == (3, 1) and np.isfinite(v).all() for v in scores.values())


@pytest.mark.parametrize("request_bytes, message", [
    (b"\x08\x01 this is not a tf.Example", "parse"),
    (_sample_example(skip=("visits",)), "visits"),         # a column without missing cells is required
    (_sample_example(visits=[4.0, 5.0]), "visits"),         # two values where one is expected
    (_sample_example(age=np.nan), "feature 'age' holds a NaN or an infinity"),
    (_sample_example(tenure_months=np.inf), "feature 'tenure_months' holds a NaN or an infinity"),
    (_sample_example(visits=-np.inf), "feature 'visits' holds a NaN or an infinity"),
], ids=["malformed", "missing-required", "two-values", "nan", "inf", "minus-inf"])
def test_sample_bad_request_is_a_clear_error_and_the_model_still_serves(serve_sample, request_bytes, message):
    before = serve_sample([SAMPLE_GOOD])
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve_sample([SAMPLE_GOOD, request_bytes])
    after = serve_sample([SAMPLE_GOOD])
    for task, value in before.items():
        np.testing.assert_array_equal(after[task], value)


def test_sample_optional_values_left_out_empty_or_a_token_are_imputed_alike(serve_sample):
    left_out = serve_sample([_sample_example(skip=("age", "tenure_months", "device"))])
    empty = serve_sample([_sample_example(skip=("device",), age=[], tenure_months=[])])
    token = serve_sample([_sample_example(device="?", age=[], tenure_months=[])])
    for task in left_out:
        np.testing.assert_array_equal(left_out[task], empty[task])
        np.testing.assert_array_equal(left_out[task], token[task])


def test_sample_unseen_category_and_empty_batch(serve_sample):
    unseen = serve_sample([_sample_example(plan="platinum", region="mars")])
    assert all(np.isfinite(v).all() for v in unseen.values())
    assert {task: v.shape for task, v in serve_sample([]).items()} == {
        "churned": (0, 1), "purchased": (0, 1), "spend": (0, 1)}


# --- JSON instances (predict_instances), as TF Serving's REST API converts them ---------------------

SAMPLE_INSTANCE = {"age": 30, "visits": 4, "tenure_months": 24.0, "region": "west", "device": "mobile",
                   "plan": "basic", "balance": 0}


@pytest.fixture(scope="module")
def sample_signatures(sample_run):
    (version,) = serving_versions(sample_run.output_dir)
    return tf.saved_model.load(str(version)).signatures


def _answer(signatures, instances):
    from pipeline.results.serving_check import predictions

    return predictions(signatures["predict_instances"], instances)["predictions"]


def test_sample_json_instances_answer_as_tf_examples_do(sample_signatures, serve_sample):
    # Whole numbers as JSON integers; missing optional values as NaN (numbers) and "" (strings).
    instances = [SAMPLE_INSTANCE, {**SAMPLE_INSTANCE, "age": float("nan"), "tenure_months": float("nan"),
                                   "device": ""}, {**SAMPLE_INSTANCE, "age": 25.5, "plan": "platinum"}]
    examples = [SAMPLE_GOOD, _sample_example(skip=("age", "tenure_months", "device")),
                _sample_example(age=25.5, plan="platinum")]
    expected = serve_sample(examples)
    answered = _answer(sample_signatures, instances)
    for task, values in expected.items():
        np.testing.assert_array_equal(np.array([row[task] for row in answered], np.float32), values)


@pytest.mark.parametrize("change, message", [
    ({"visits": None}, "instance 1, input 'visits' is missing"),                   # a required column left out
    ({"visits": "4"}, "instance 1, input 'visits': expected a number, got \"4\""),
    ({"region": 3}, "instance 1, input 'region': expected a string"),
    ({"visits": [4, 5]}, "instance 1, input 'visits': expected one number, got a list"),
    ({"colour": "red"}, "instance 1: unknown input 'colour'; the inputs are age, balance, device"),
    ({"age": "null"}, "instance 1, input 'age': expected a number, got null"),
    ({"visits": float("nan")}, "feature 'visits' holds a NaN or an infinity"),   # NaN: only optional columns
    ({"tenure_months": float("inf")}, "feature 'tenure_months' holds a NaN or an infinity"),
], ids=["missing-required", "string-for-number", "number-for-string", "list-for-scalar", "unknown-column",
        "null", "nan-in-required", "inf"])
def test_sample_bad_json_request_is_one_error_naming_the_input_and_the_model_still_serves(
        sample_signatures, change, message):
    from pipeline.results.rest_instances import RequestError

    before = _answer(sample_signatures, [SAMPLE_INSTANCE])
    bad = {k: v for k, v in {**SAMPLE_INSTANCE, **change}.items() if v is not None}
    if change.get("age") == "null":
        bad["age"] = None
    with pytest.raises(RequestError) as excinfo:
        _answer(sample_signatures, [SAMPLE_INSTANCE, bad])
    assert message in str(excinfo.value) and "\n" not in str(excinfo.value)
    assert _answer(sample_signatures, [SAMPLE_INSTANCE]) == before


def test_sample_fuzzed_json_requests_answer_or_name_the_input(sample_signatures):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pipeline.results.rest_instances import RequestError

    good = _answer(sample_signatures, [SAMPLE_INSTANCE])
    names = sorted(SAMPLE_INSTANCE)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(width=32),
                        st.text(max_size=6))
    json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                st.dictionaries(st.text(max_size=4), inner,
                                                                                max_size=2)), max_leaves=5)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(changed=st.dictionaries(st.sampled_from(names + ["colour", ""]), json_values, max_size=3),
           dropped=st.sets(st.sampled_from(names), max_size=2))
    def fuzz(changed, dropped):
        instance = {k: v for k, v in {**SAMPLE_INSTANCE, **changed}.items() if k not in dropped}
        try:
            answered = _answer(sample_signatures, [instance])
        except RequestError as exc:
            text = str(exc)
            assert "\n" not in text
            assert any(repr(n) in text for n in names + ["colour", ""]), text
        else:
            assert set(instance) == set(names)
            assert all(np.isfinite(v).all() for v in answered[0].values())
        assert _answer(sample_signatures, [SAMPLE_INSTANCE]) == good

    fuzz()


def test_serving_check_answers_a_json_request_file(sample_run, serve_sample, tmp_path):
    import json
    import subprocess

    from conftest import command

    request = tmp_path / "instances.json"
    request.write_text(json.dumps({"signature_name": "predict_instances", "instances": [SAMPLE_INSTANCE]}))
    proc = subprocess.run(command("mtl-serving-check") + ["--output-dir", str(sample_run.output_dir),
                                                           "--instances", str(request)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (answer,) = json.loads(proc.stdout)["predictions"]
    for task, value in serve_sample([SAMPLE_GOOD]).items():
        np.testing.assert_allclose(answer[task], value[0], rtol=1e-6)
    request.write_text(json.dumps({"instances": [{**SAMPLE_INSTANCE, "visits": "four"}]}))
    proc = subprocess.run(command("mtl-serving-check") + ["--output-dir", str(sample_run.output_dir),
                                                           "--instances", str(request)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {request}: instance 0, input 'visits': expected a number, "
                                   'got "four"')
