"""The Cost J tab writes out the cost of the model that was trained: its terms, its settings, its numbers."""

import pytest
from PySide6.QtCore import Qt

from .widgets import click_dock_tab

RUN_MS = 60_000


def train_kind(qtbot, window, kind, **params):
    click_dock_tab(qtbot, window, "Cost J")
    panel = window.training_panel
    panel.model_kind.setCurrentIndex(panel.model_kind.findData(kind))
    panel.set_params({"n_epochs": 3, **params})
    with qtbot.waitSignal(panel.sig_run_ended, timeout=RUN_MS) as ended:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert ended.args[1] == "done"
    model, text = panel.model, window.formula_panel.text()
    last = model.history_[-1]
    assert f"{last.data_term:.6g}" in text and f"{last.reg_term:.6g}" in text and f"{last.total:.6g}" in text
    return model, text


def z_line(text) -> str:
    return next(line for line in text.split("<li>") if line.startswith("z = "))


def test_course_mf_with_mean_normalization_names_the_movie_mean_and_no_movie_bias(qtbot, window):
    window.open_preset("course")
    model, text = train_kind(qtbot, window, "mf", mean_normalization=True, user_bias=True, item_bias=False)
    z = z_line(text)
    assert "w<sup>(j)</sup>·x<sup>(i)</sup> + b<sup>(j)</sup> + μ<sub>i</sub>" in z
    assert "c<sup>(i)</sup>" not in z and "ŷ = z" in text
    assert "λ/2 (‖W‖² + ‖X‖²)" in text and f"λ = {model.reg:g}" in text


def test_movie_bias_global_offset_and_an_unregularized_bias_are_written_out(qtbot, window):
    window.open_preset("course")
    model, text = train_kind(qtbot, window, "mf", mean_normalization=False, global_mean=True, user_bias=True,
                             item_bias=True, bias_reg=0.0)
    z = z_line(text)
    assert "b<sup>(j)</sup> + c<sup>(i)</sup> + μ" in z and f"μ = {model.global_mean_:.4g}" in z
    assert "λ<sub>b</sub>/2 (‖b‖² + ‖c‖²)" in text and "λ<sub>b</sub> = 0: the biases are not regularized" in text

    model, text = train_kind(qtbot, window, "mf", bias_reg=2.5)
    assert "λ<sub>b</sub> = 2.5" in text and "not regularized" not in text


def test_the_y_range_model_shows_its_sigmoid_and_range(qtbot, window):
    window.open_preset("course")
    model, text = train_kind(qtbot, window, "dot_bias")
    assert tuple(model.y_range_) == (-0.5, 5.5)  # the course's scale, 0 to 5, widened by a step on each side
    assert "ŷ = −0.5 + (5.5 − (−0.5)) · g(z)" in text
    assert "inside the sigmoid" in z_line(text) and "c<sup>(i)</sup>" in z_line(text)


def test_likes_are_the_cross_entropy_of_g_z(qtbot, window):
    window.open_preset("course-binary")
    _, text = train_kind(qtbot, window, "mf")
    assert "log g(z)" in text and "ŷ = g(z)" in text


@pytest.mark.parametrize("normalize, scale_targets", [(True, True), (False, False)])
def test_content_based_shows_its_scaled_targets_and_unit_vectors_when_on(qtbot, window, normalize, scale_targets):
    window.open_preset("planted")
    model, text = train_kind(qtbot, window, "content", normalize=normalize, scale_targets=scale_targets)
    assert model.normalize_ is normalize and model.scale_targets_ is scale_targets
    assert ("L2-normalized" in text) is normalize
    low, high = (float(v) for v in (model.target_scaler_.data_min_[0], model.target_scaler_.data_max_[0]))
    assert (f"y = 2 (r − {low:g}) / ({high:g} − {low:g}) − 1" in text) is scale_targets
    assert ("y is the rating itself" in text) is (not scale_targets)
    assert "Σ ‖weights‖²" in text


def test_baselines_and_the_network_show_only_the_terms_they_have(qtbot, window):
    window.open_preset("course")
    _, text = train_kind(qtbot, window, "biases")
    assert "w<sup>(j)</sup>" not in text and "‖W‖²" not in text and "λ<sub>b</sub>/2 (‖b‖² + ‖c‖²)" in text
    _, text = train_kind(qtbot, window, "global_mean")
    assert z_line(text).startswith("z = μ") and "+ 0</p>" in text.replace("&nbsp;", "")
    _, text = train_kind(qtbot, window, "neural")
    assert "MLP" in z_line(text) and "embeddings and layer weights" in text


def test_the_bayesian_model_writes_the_sampler_s_cost_not_the_course_s_lambda(qtbot, window):
    window.open_preset("course")
    model, text = train_kind(qtbot, window, "bayes", n_epochs=6, burn_in=2)
    assert "Gibbs sample" in z_line(text)
    assert "σ²/2 Σ<sub>rows</sub> (θ − μ)ᵀ Λ (θ − μ)" in text and "λ = σ²Λ" in text
    assert f"σ = {model.noise_sd_:.3g}" in text and "burn-in 2" in text
    assert "λ/2 (‖W‖² + ‖X‖²)" not in text
