"""Preferences and conversation settings dialogs, driven through their real widgets (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QDialogButtonBox, QLabel, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.conversation_settings import ConversationSettings
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.services.model_setup import ModelSetupService
from gptoss_desktop.ui.dialogs.conversation_settings import ConversationSettingsDialog
from gptoss_desktop.ui.dialogs.settings import SettingsDialog
from gptoss_desktop.ui.style import STYLE_SHEET, apply_appearance, apply_style, is_dark, system_font_size


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The application, its font, palette, style and style sheet put back afterwards for other tests."""
    font, style, sheet = qapp.font(), qapp.style().name(), qapp.styleSheet()
    apply_style(qapp)
    yield qapp
    apply_appearance(qapp, Settings())
    qapp.styleHints().unsetColorScheme()
    if qapp.style().name() != style:
        qapp.setStyle(style)
    qapp.setPalette(QPalette())
    qapp.setFont(font)
    qapp.setStyleSheet(sheet)


def show(qtbot: QtBot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def button(dialog: QDialog, role: QDialogButtonBox.StandardButton) -> QAbstractButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    found = box.button(role)
    assert found is not None
    return found


def focusable(dialog: QDialog) -> list[QWidget]:
    """Controls a keyboard user can reach (a spin box's inner line edit hands focus to the spin box)."""
    return [
        w
        for w in dialog.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.focusProxy() is None and w.isVisibleTo(dialog)
    ]


def tab_cycle(qtbot: QtBot, first: QWidget) -> list[QWidget]:
    """Focus the first control, then press Tab until focus comes back to it."""
    first.setFocus(Qt.FocusReason.OtherFocusReason)
    visited = [first]
    for _ in range(30):
        current = QApplication.focusWidget()
        assert current is not None
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        reached = QApplication.focusWidget()
        assert reached is not None
        if reached is first:
            return visited
        visited.append(reached)
    raise AssertionError(f"Tab never came back to the first control: {visited}")


def in_reading_order(widgets: list[QWidget], dialog: QDialog) -> list[QWidget]:
    def position(widget: QWidget) -> tuple[int, int]:
        corner = widget.mapTo(dialog, widget.rect().topLeft())
        return corner.y(), corner.x()

    return sorted(widgets, key=position)


def assert_nothing_clipped(dialog: QDialog) -> None:
    for widget in dialog.findChildren(QWidget):
        if isinstance(widget, QLabel) and widget.wordWrap() and widget.isVisibleTo(dialog):
            # A wrapping label needs its height at the width it has.
            assert widget.heightForWidth(widget.width()) <= widget.height(), (widget, widget.size())
        elif isinstance(widget, (QLabel, QAbstractButton)) and widget.isVisibleTo(dialog):
            hint = widget.sizeHint()
            assert hint.width() <= widget.width() and hint.height() <= widget.height(), (widget, hint, widget.size())


# Preferences


def test_preferences_return_what_was_chosen(models: ModelSetupService, app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, SettingsDialog(Settings(model_path="/models/a.gguf"), models))
    assert isinstance(dialog, SettingsDialog)
    dialog.theme.setCurrentIndex(dialog.theme.findText("Dark"))
    dialog.font_size.setValue(14)
    dialog.effort.setCurrentIndex(dialog.effort.findText("High"))
    on_its_text = QPoint(8, dialog.show_reasoning.height() // 2)  # a check box takes clicks on its box and text
    qtbot.mouseClick(dialog.show_reasoning, Qt.MouseButton.LeftButton, pos=on_its_text)
    qtbot.mouseClick(button(dialog, QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.settings() == Settings(
        model_path="/models/a.gguf", effort="high", theme="dark", font_size=14, show_reasoning=False
    )
    assert is_dark(app.palette()) and app.font().pointSize() == 14  # still applied after OK


def test_preferences_show_the_current_settings(models: ModelSetupService, app: QApplication, qtbot: QtBot) -> None:
    current = Settings(effort="low", theme="light", font_size=11, show_reasoning=False)
    dialog = show(qtbot, SettingsDialog(current, models))
    assert isinstance(dialog, SettingsDialog)
    assert dialog.settings() == current
    shown = (dialog.theme.currentText(), dialog.font_size.text(), dialog.effort.currentText())
    assert shown == ("Light", "11 pt", "Low")
    assert not dialog.show_reasoning.isChecked()


def test_theme_and_font_preview_live_and_cancel_undoes_them(
    models: ModelSetupService, app: QApplication, qtbot: QtBot
) -> None:
    apply_appearance(app, Settings())
    dialog = show(qtbot, SettingsDialog(Settings(), models))
    assert isinstance(dialog, SettingsDialog)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.font_size.setValue(20)
    assert is_dark(app.palette()) and app.font().pointSize() == 20
    qtbot.mouseClick(button(dialog, QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not is_dark(app.palette()) and app.font().pointSize() == system_font_size()


def test_font_size_offers_the_system_default(models: ModelSetupService, app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, SettingsDialog(Settings(font_size=None), models))
    assert isinstance(dialog, SettingsDialog)
    assert dialog.font_size.text() == "System default"
    dialog.font_size.stepUp()  # one point larger than what people already see (not the smallest, not the same)
    assert dialog.font_size.value() == system_font_size() + 1
    assert dialog.settings().font_size == system_font_size() + 1
    dialog.font_size.setValue(dialog.font_size.minimum())
    assert dialog.settings().font_size is None


def test_preferences_tab_order_follows_the_layout(models: ModelSetupService, app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, SettingsDialog(Settings(), models))
    assert isinstance(dialog, SettingsDialog)
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    buttons: list[QWidget] = list(box.buttons())
    fields: list[QWidget] = [
        dialog.theme,
        dialog.font_size,
        dialog.effort,
        dialog.show_reasoning,
        dialog.python.path,
        dialog.python.browse,
        dialog.semantic.download,
        dialog.semantic.choose,
        dialog.api.enabled,  # its port is disabled while the API is off
    ]
    assert in_reading_order(fields, dialog) == fields  # the expected order is the one on screen
    assert tab_cycle(qtbot, dialog.theme) == [*fields, *in_reading_order(buttons, dialog)]


# Conversation settings


def test_conversation_settings_return_what_was_edited(app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, ConversationSettingsDialog(ConversationSettings()))
    assert isinstance(dialog, ConversationSettingsDialog)
    qtbot.keyClicks(dialog.instructions, "Answer like a pirate.")
    dialog.effort.setCurrentIndex(dialog.effort.findData("low"))
    dialog.temperature.setValue(0.7)
    dialog.top_p.setValue(0.9)
    dialog.max_tokens.setValue(1024)
    dialog.seed.setValue(1234)
    qtbot.mouseClick(button(dialog, QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.conversation_settings() == ConversationSettings(
        instructions="Answer like a pirate.", effort="low", temperature=0.7, top_p=0.9, max_tokens=1024, seed=1234
    )


def test_conversation_settings_show_the_current_values(app: QApplication, qtbot: QtBot) -> None:
    current = ConversationSettings(instructions="Be brief.", effort="high", temperature=0.25, top_p=0.5)
    dialog = show(qtbot, ConversationSettingsDialog(current))
    assert isinstance(dialog, ConversationSettingsDialog)
    assert dialog.conversation_settings() == current
    assert (dialog.max_tokens.text(), dialog.seed.text()) == ("No limit", "Random")


def test_typed_temperature_is_read(app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, ConversationSettingsDialog(ConversationSettings()))
    assert isinstance(dialog, ConversationSettingsDialog)
    dialog.temperature.setFocus()
    dialog.temperature.selectAll()
    qtbot.keyClicks(dialog.temperature, "0.35")
    assert dialog.conversation_settings().temperature == 0.35


def test_reset_restores_recommended_sampling_and_keeps_instructions(app: QApplication, qtbot: QtBot) -> None:
    edited = ConversationSettings("Keep me.", "low", temperature=0.1, top_p=0.2, max_tokens=5, seed=9)
    dialog = show(qtbot, ConversationSettingsDialog(edited))
    assert isinstance(dialog, ConversationSettingsDialog)
    qtbot.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # resetting is not OK
    assert dialog.conversation_settings() == ConversationSettings(instructions="Keep me.", effort="low")


def test_cancel_reports_rejection(app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, ConversationSettingsDialog(ConversationSettings()))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()


def test_conversation_tab_order_follows_the_layout(app: QApplication, qtbot: QtBot) -> None:
    dialog = show(qtbot, ConversationSettingsDialog(ConversationSettings()))
    assert isinstance(dialog, ConversationSettingsDialog)
    shown = {label.text(): label.buddy() for label in dialog.findChildren(QLabel) if label.isVisibleTo(dialog)}
    assert shown["&Instructions (system prompt):"] is dialog.instructions  # each field is named where it is
    assert shown["&Maximum reply tokens:"] is dialog.max_tokens
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    buttons: list[QWidget] = list(box.buttons())
    fields: list[QWidget] = [dialog.instructions, dialog.effort, dialog.python, dialog.unisolated, dialog.documents]
    fields += [dialog.temperature, dialog.top_p, dialog.top_k]
    fields += [dialog.min_p, dialog.repeat_penalty, dialog.max_tokens, dialog.seed, dialog.reset_button]
    assert in_reading_order(fields, dialog) == fields  # the expected order is the one on screen
    assert tab_cycle(qtbot, dialog.instructions) == [*fields, *in_reading_order(buttons, dialog)]


# Both dialogs


def make_dialogs(models: ModelSetupService) -> list[QDialog]:
    return [SettingsDialog(Settings(), models), ConversationSettingsDialog(ConversationSettings(instructions="x"))]


def test_every_control_has_an_accessible_name(models: ModelSetupService, app: QApplication, qtbot: QtBot) -> None:
    for dialog in make_dialogs(models):
        show(qtbot, dialog)
        controls = focusable(dialog)
        assert len(controls) >= 6
        assert [w for w in controls if not w.accessibleName().strip()] == []


def test_every_field_label_has_a_mnemonic_and_a_buddy(
    models: ModelSetupService, app: QApplication, qtbot: QtBot
) -> None:
    for dialog in make_dialogs(models):
        show(qtbot, dialog)
        labels = [label for label in dialog.findChildren(QLabel) if label.text().endswith(":")]
        assert labels
        for label in labels:
            assert "&" in label.text() and label.buddy() is not None, label.text()


def test_appearance_dark_and_light(app: QApplication) -> None:
    apply_appearance(app, Settings(theme="dark"))
    assert app.palette().color(QPalette.ColorRole.Base).lightness() < 128
    assert app.palette().color(QPalette.ColorRole.Text).lightness() >= 128
    assert app.styleSheet() == STYLE_SHEET
    apply_appearance(app, Settings(theme="light"))
    assert app.palette().color(QPalette.ColorRole.Base).lightness() >= 128
    assert app.palette().color(QPalette.ColorRole.Text).lightness() < 128


def test_appearance_font_size(app: QApplication, qtbot: QtBot) -> None:
    label = QLabel("text")
    qtbot.addWidget(label)
    label.show()
    apply_appearance(app, Settings(font_size=17))
    assert app.font().pointSize() == 17 and label.font().pointSize() == 17
    apply_appearance(app, Settings(font_size=None))
    assert app.font().pointSize() == system_font_size() and label.font().pointSize() == system_font_size()


@pytest.mark.parametrize("kind", [SettingsDialog, ConversationSettingsDialog])
def test_double_text_size_grows_the_dialog_without_clipping(
    models: ModelSetupService, app: QApplication, qtbot: QtBot, kind: type
) -> None:
    def make() -> QDialog:
        if kind is SettingsDialog:
            return SettingsDialog(Settings(), models)
        return ConversationSettingsDialog(ConversationSettings(instructions="Be brief."))

    apply_appearance(app, Settings())
    normal = show(qtbot, make())
    normal.adjustSize()
    assert_nothing_clipped(normal)
    normal_hint = normal.sizeHint()

    apply_appearance(app, Settings(font_size=2 * system_font_size()))
    # An open dialog follows the change, and one opened afterwards starts large.
    normal.adjustSize()
    large = show(qtbot, make())
    large.adjustSize()
    for dialog in (normal, large):
        assert dialog.sizeHint().width() > normal_hint.width()
        assert dialog.sizeHint().height() > normal_hint.height()
        assert_nothing_clipped(dialog)
