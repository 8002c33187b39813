"""The EvalConfig generated from the task list."""

import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_specs

from models import regression_metrics
from config import ConfigError, build_config
from components.eval_config import build_eval_config


def _by_name(spec):
    """The spec's metrics by the name TFMA computes them under."""
    return {metric_specs.metric_instance(m).name: m for m in spec.metrics}


def _overall_threshold(metric):
    """The metric's threshold, which gates the overall slice only."""
    assert not metric.HasField("threshold")  # a plain threshold would gate every slice
    [gated] = metric.per_slice_thresholds
    assert list(gated.slicing_specs) == [tfma.SlicingSpec()]
    return gated.threshold


def test_one_metrics_spec_per_task_with_labels_by_output():
    config = build_config({"tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]})
    eval_config = build_eval_config(config)
    # Labels are read from the Transform's output, so string binary labels are 0/1.
    assert list(eval_config.model_specs[0].preprocessing_function_names) == ["transform_features"]
    assert dict(eval_config.model_specs[0].label_keys) == {"y1": "y1_xf", "y2": "y2_xf"}
    assert [list(s.output_names) for s in eval_config.metrics_specs] == [["y1"], ["y2"]]
    regression, binary = (_by_name(s) for s in eval_config.metrics_specs)
    assert {"mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "r2", "mean_label",
            "mean_prediction", "example_count", "calibration_plot"} == set(regression)
    assert {"auc", "binary_crossentropy", "calibration", "example_count"} <= set(binary)
    # R² and the error metrics come from one shared numpy pass, as TFMA resolves them.
    for name in ("r2", "mean_squared_error", "mean_absolute_error", "root_mean_squared_error", "mean_label",
                 "mean_prediction"):
        assert type(metric_specs.metric_instance(regression[name])).__module__ == regression_metrics.MODULE
    # The model's compiled metrics would repeat these at the cost of a TF combiner per slice.
    assert eval_config.options.include_default_metrics.value is False


def test_every_task_has_an_absolute_and_a_change_gate():
    config = build_config({"tasks": [
        {"name": "y1", "gate": {"min_r2": 0.7, "max_drop": 0.02, "max_mse": 0.3}},
        {"name": "y2", "type": "binary", "gate": {"min_auc": 0.8}}]})
    regression, binary = (_by_name(s) for s in build_eval_config(config).metrics_specs)
    r2 = _overall_threshold(regression["r2"])
    assert r2.value_threshold.lower_bound.value == 0.7
    assert r2.change_threshold.absolute.value == -0.02
    assert r2.change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert _overall_threshold(regression["mean_squared_error"]).value_threshold.upper_bound.value == 0.3
    assert _overall_threshold(binary["auc"]).value_threshold.lower_bound.value == 0.8
    assert _overall_threshold(binary["auc"]).change_threshold.absolute.value == -0.05


def test_configured_slices_with_numeric_features_by_their_transform_bucket():
    config = build_config({"evaluation": {
        "slice_features": [{"name": "region"}, {"name": "age", "type": "numeric", "num_buckets": 5}],
        "slices": [["region"], ["region", "age"]]}})
    eval_config = build_eval_config(config)
    assert [list(s.feature_keys) for s in eval_config.slicing_specs] == [[], ["region"], ["region", "age_bucket"]]
    assert list(eval_config.model_specs[0].preprocessing_function_names) == ["transform_features"]
    assert config.transform_custom_config()["bucketized"] == [{"name": "age", "type": "numeric", "num_buckets": 5}]



MULTICLASS = {
    "data": {"source": "csv", "path": "t.csv", "features": [{"name": "bill-length"}]},
    "tasks": [{"name": "species", "type": "multiclass", "classes": ["a", "b", "c"],
               "gate": {"min_accuracy": 0.8, "min_auc": 0.9}},
              {"name": "sex", "type": "binary", "positive": "male"}],
}


def test_multiclass_task_gets_per_class_and_macro_specs_and_its_gates():
    eval_config = build_eval_config(build_config(MULTICLASS))
    assert [list(s.output_names) for s in eval_config.metrics_specs] == [["species"]] * 3 + [["sex"]]
    main, per_class, macro, _ = eval_config.metrics_specs
    assert _overall_threshold(_by_name(main)["sparse_categorical_accuracy"]).value_threshold.lower_bound.value == 0.8
    assert {"multi_class_confusion_matrix_plot", "sparse_categorical_crossentropy"} <= set(_by_name(main))
    assert list(per_class.binarize.class_ids.values) == [0, 1, 2]
    assert set(_by_name(per_class)) == {"precision", "recall", "auc"}
    assert macro.aggregate.macro_average and dict(macro.aggregate.class_weights) == {0: 1.0, 1: 1.0, 2: 1.0}
    assert _overall_threshold(_by_name(macro)["auc"]).value_threshold.lower_bound.value == 0.9


def test_every_task_is_weighted_by_its_own_transformed_weight():
    eval_config = build_eval_config(build_config(MULTICLASS))
    assert dict(eval_config.model_specs[0].example_weight_keys) == {"species": "species__weight_xf",
                                                                    "sex": "sex__weight_xf"}


def test_multiclass_without_classes_is_a_clear_error():
    raw = {**MULTICLASS, "tasks": [{"name": "species", "type": "multiclass"}]}
    with pytest.raises(ConfigError) as err:
        build_eval_config(build_config(raw))
    assert str(err.value) == ("task 'species': the Evaluator needs the classes of a multiclass task; list them "
                              "in the task's classes (a CSV input fills them in from the data)")
