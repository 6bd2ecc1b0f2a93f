"""The interface language: one `_()` over gettext catalogues, Chinese by default.

Message ids are English (as Django and Zammad do); `csdesk/locale/zh_CN/LC_MESSAGES/csdesk.po` holds
the Chinese, compiled to the `.mo` file beside it that ships in the package (`scripts/i18n` extracts,
updates and compiles with Babel). English needs no catalogue: the ids are the English text.

The language is chosen once per process, before any word is shown: `--lang` on the command line, else
`CSDESK_LANG`, else `lang` in the settings, else Chinese (`choose`). Translate when rendering, never at
import time, so the choice always applies. JSON keys and codes never pass through `_()`.

Only the standard library is imported here: `csdesk --help` must stay fast.
"""

from __future__ import annotations

import gettext as _gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "csdesk"
LANGUAGES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "cn": "zh_CN", "中文": "zh_CN", "en": "en", "english": "en", "英文": "en"}
DEFAULT = "zh_CN"

_current = DEFAULT
_catalogue: _gettext.NullTranslations | None = None


def normalise(name: str | None) -> str | None:
    """`zh`, `zh_CN`, `zh-CN`, `en`, `en_US.UTF-8` → `zh_CN` / `en`; anything else → None."""
    if not name:
        return None
    key = name.strip().split(".")[0].lower()
    if key in LANGUAGES:
        return LANGUAGES[key]
    if key.startswith("zh"):
        return "zh_CN"
    if key.startswith("en"):
        return "en"
    return None


def set_language(name: str | None) -> str:
    """Switch the language of everything shown from now on; returns the language in force."""
    global _current, _catalogue
    lang = normalise(name) or DEFAULT
    if lang != _current or _catalogue is None:
        _current = lang
        _catalogue = _load(lang)
    return _current


def language() -> str:
    return _current


def is_english() -> bool:
    return _current == "en"


def _load(lang: str) -> _gettext.NullTranslations:
    if lang == "en":
        return _gettext.NullTranslations()
    try:
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fh:
            return _gettext.GNUTranslations(fh)
    except OSError:  # a broken install: English rather than nothing
        return _gettext.NullTranslations()


def _(message: str) -> str:
    """The message in the interface language (the English id when it has no translation)."""
    if _catalogue is None:
        set_language(_current)
    return _catalogue.gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    if _catalogue is None:
        set_language(_current)
    return _catalogue.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined (a table of labels); `_()` it when shown."""
    return message


def label(english: str, chinese: str) -> str:
    """A built-in label defined in both languages at its source (choices, statuses): the one for now."""
    return english if _current == "en" else chinese


_ROOT_VALUED = ("--db", "--as", "--lang")


def _root_option(argv: list[str], name: str) -> str | None:
    """The value of a root option (`csdesk --lang en calls list`): only before the command's name, so
    that a command's own option of the same name (`report monthly --lang en`) is not taken for it."""
    it = iter(argv)
    for arg in it:
        if arg in _ROOT_VALUED:
            value = next(it, None)
            if arg == name:
                return value
        elif arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            return None
    return None


def choose(argv: list[str]) -> str:
    """Pick the language before anything is shown: `--lang X` before the command, `CSDESK_LANG`, the
    settings' `lang`, else Chinese. A setting that cannot be read is left for the command to report."""
    wanted = _root_option(argv, "--lang") or os.environ.get("CSDESK_LANG") or _setting(argv)
    return set_language(wanted)


def _setting(argv: list[str]) -> str | None:
    db = _root_option(argv, "--db") or os.environ.get("CSDESK_DB")
    try:
        from csdesk.config import config_path

        db_path = Path(db).expanduser() if db and "://" not in db else None
        path = config_path(db_path)
        if path is None or not path.is_file():
            return None
        import tomllib

        value = tomllib.loads(path.read_text(encoding="utf-8")).get("lang")
        return value if isinstance(value, str) else None
    except Exception:  # noqa: BLE001 — the command itself reports a bad settings file, in the language chosen
        return None


def translate_cli(command) -> None:
    """Prepare a click command tree built by typer from English strings for a person to read: its help
    in the interface language, option types in words (`TEXT`, `NUMBER`, nothing for a switch) instead of
    typer's `<bool>` and `<list[str]>`, and the words that typer prints itself (Options, Commands…)."""
    english = _current == "en"
    _translate_libraries()
    _types_in_words()
    seen: set[int] = set()

    def walk(cmd) -> None:
        if id(cmd) in seen:
            return
        seen.add(id(cmd))
        if not english:
            if getattr(cmd, "help", None):
                cmd.help = _(cmd.help)
            if getattr(cmd, "short_help", None):
                cmd.short_help = _(cmd.short_help)
            # The usage line's placeholders: 用法： csdesk calls list [选项]
            if getattr(cmd, "options_metavar", None) == "[OPTIONS]":
                cmd.options_metavar = _("[OPTIONS]")
            if getattr(cmd, "subcommand_metavar", None) == "COMMAND [ARGS]...":
                cmd.subcommand_metavar = _("COMMAND [ARGS]...")
        for param in getattr(cmd, "params", []):
            if getattr(param, "help", None) and not english:
                param.help = _(param.help)
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(command)


_TYPE_WORDS = {"int": N_("NUMBER"), "float": N_("NUMBER"), "str": N_("TEXT"), "path": N_("FILE"), "uuid": N_("TEXT")}


def _types_in_words() -> None:
    """The type column of an option's help: its metavar, the choices, or a word; a switch shows none."""
    from typer.core import TyperArgument, TyperOption

    for cls in (TyperOption, TyperArgument):
        typer_label = cls.display_type_rich
        if getattr(typer_label, "_csdesk", False):
            continue

        def display(self, ctx, _typer_label=typer_label):
            label = (_typer_label(self, ctx) or "").strip("<>")
            repeatable = label.startswith("list[")
            if repeatable:
                label = label[5:-1]
            if label in ("bool", "") or getattr(self, "is_flag", False):
                return None
            if self.metavar:
                word = self.metavar
            elif "|" in label:
                word = label
            else:
                word = _(_TYPE_WORDS.get(label.lower(), "TEXT"))
            return f"{word} {_('(repeatable)')}" if repeatable else word

        display._csdesk = True
        cls.display_type_rich = display


_PATCHED = False


def _folding(render):
    def folded(*args, **kwargs):
        result = render(*args, **kwargs)
        parts = getattr(result, "renderables", None) or (result if isinstance(result, (list, tuple)) else [result])
        for text in parts:
            if hasattr(text, "overflow"):
                text.overflow = "fold"
        return result

    return folded


def _translate_libraries() -> None:
    """typer prints some words itself: point its module-level `_` at ours, put its panel titles (read
    once at its import) into the language in force, and translate the usage line's prefix and the help
    option's text. A typer whose internals differ keeps those few words in English.

    `typer.rich_utils` (its help and error panels) costs ~75 ms to import and most commands never show a
    panel: it is translated where it is already loaded, else the moment typer imports it."""
    global _PATCHED
    import sys

    try:
        from typer import core
    except ImportError:  # pragma: no cover — typer is a dependency
        return
    if "typer.rich_utils" in sys.modules:
        _translate_rich_utils(sys.modules["typer.rich_utils"])
    elif not any(isinstance(f, _RichUtilsFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _RichUtilsFinder())
    if _PATCHED:
        return
    _PATCHED = True
    if hasattr(core, "_"):
        core._ = _
    try:
        from typer._click import core as click_core
        from typer._click.formatting import HelpFormatter
    except ImportError:
        return
    write_usage = HelpFormatter.write_usage

    def write_usage_translated(self, prog, args="", prefix=None):
        return write_usage(self, prog, args, _("Usage:") + " " if prefix is None else prefix)

    HelpFormatter.write_usage = write_usage_translated
    get_help_option = click_core.Command.get_help_option

    def get_help_option_translated(self, ctx):
        option = get_help_option(self, ctx)
        if option is not None and getattr(option, "help", None):
            option.help = _(option.help)
        return option

    click_core.Command.get_help_option = get_help_option_translated
    _plain_usage_errors()


def _plain_usage_errors() -> None:
    """Without rich (TYPER_USE_RICH=0) click prints a usage error itself: the same words as the panel's."""
    try:
        from typer._click.exceptions import UsageError
        from typer._click.utils import echo
    except ImportError:
        return
    show_english = UsageError.show

    def show(self, file=None):
        if _current == "en":
            return show_english(self, file)
        import sys

        file = file or sys.stderr
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            hint = ""
            if ctx.command.get_help_option(ctx) is not None:
                hint = _("Try '{command} {option}' for help.").format(
                    command=ctx.command_path, option=ctx.help_option_names[0]) + "\n"
            echo(f"{ctx.get_usage()}\n{hint}", file=file, color=ctx.color)
        echo(_("Error: {message}").format(message=usage_message(self.format_message())), file=file,
             color=ctx.color if ctx is not None else None)

    UsageError.show = show


_RICH_UTILS_PATCHED = False


def _translate_rich_utils(rich_utils) -> None:
    """typer's panels in the language in force (titles re-set on every call: the language may change)."""
    global _RICH_UTILS_PATCHED
    for attr, text in (
        ("DEPRECATED_STRING", "(deprecated) "), ("DEFAULT_STRING", "[default: {}]"),
        ("ENVVAR_STRING", "[env var: {}]"), ("REQUIRED_LONG_STRING", "[required]"),
        ("ARGUMENTS_PANEL_TITLE", "Arguments"), ("OPTIONS_PANEL_TITLE", "Options"),
        ("COMMANDS_PANEL_TITLE", "Commands"), ("ERRORS_PANEL_TITLE", "Error"), ("ABORTED_TEXT", "Aborted."),
        ("RICH_HELP", "Try [blue]'{command_path} {help_option}'[/] for help."),
    ):
        if hasattr(rich_utils, attr):
            setattr(rich_utils, attr, _(text))
    if _RICH_UTILS_PATCHED:
        return
    _RICH_UTILS_PATCHED = True
    if hasattr(rich_utils, "_"):
        rich_utils._ = _
    rich_format_error = getattr(rich_utils, "rich_format_error", None)
    if rich_format_error is not None:
        rich_utils.rich_format_error = _usage_error_translated(rich_format_error)
    # Chinese has no spaces to wrap at: rich would cut a help line with "…"; fold it instead.
    for name in ("_get_parameter_help", "_make_command_help", "_get_help_text"):
        original = getattr(rich_utils, name, None)
        if original is not None:
            setattr(rich_utils, name, _folding(original))


class _RichUtilsFinder:
    """Translates `typer.rich_utils` right after typer imports it (only help and errors do)."""

    def find_spec(self, name, path=None, target=None):
        if name != "typer.rich_utils":
            return None
        import importlib.util
        import sys

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _translate_rich_utils(module)

        spec.loader.exec_module = exec_module
        return spec


# The words typer prints itself, marked so that the catalogue carries them.
_LIBRARY_WORDS = (
    N_("(deprecated) "), N_("[default: {}]"), N_("[env var: {}]"), N_("[required]"), N_("Arguments"),
    N_("Options"), N_("Commands"), N_("Error"), N_("Aborted."), N_("Aborted!"), N_("(dynamic)"),
    N_("default: {default}"), N_("env var: {var}"), N_("required"), N_("Missing command."),
    N_("No such command {name!r}."), N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    N_("Usage:"), N_("Show this message and exit."), N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)


# click's usage errors. The click that typer ≥ 0.17 carries inside it (`typer._click`) writes them as English
# f-strings, and an older click through the standard gettext domain that csdesk does not fill: either way
# the finished message is English. Each form it takes is a message id here with named fields; the message
# is matched against them when the error panel shows it (nothing is done or compiled before an error), and
# a `{message}` field — an inner message — is translated in turn. A message of no known form stays as it is.
_USAGE_FORMS = (
    N_("No such option: {name} (Possible options: {options})"),
    N_("No such option: {name} Did you mean {option}?"),
    N_("No such option: {name}"),
    N_("Missing argument {name}. {message}"),
    N_("Missing option {name}. {message}"),
    N_("Missing parameter {name}. {message}"),
    N_("Missing argument {name}."),
    N_("Missing option {name}."),
    N_("Missing parameter {name}."),
    N_("Missing parameter: {name}"),
    N_("Choose from:\n\t{choices}"),
    N_("Invalid value for {name}: {message}"),
    N_("Invalid value: {message}"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {count} arguments."),
    N_("Option {name} does not take a value."),
    N_("Argument {name} takes {count} values."),
    N_("{message}. Did you mean {suggestions}?"),
    N_("Value error, {message}"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid boolean, unable to interpret input"),
    N_("Value {value} is not a valid {type}."),
    N_("{value} is not a valid integer."),
    N_("{value} is not a valid float."),
    N_("{value} is not a valid boolean."),
    N_("{value} is not one of {choices}."),
    N_("{value} is not {choice}."),
    N_("file {path} does not exist."),
    N_("directory {path} does not exist."),
    N_("path {path} does not exist."),
    N_("file {path} is a directory."),
    N_("directory {path} is a file."),
    N_("file {path} is not readable."),
    N_("directory {path} is not readable."),
    N_("path {path} is not readable."),
    N_("file {path} is not writable."),
    N_("directory {path} is not writable."),
    N_("path {path} is not writable."),
    N_("{value} does not match the formats {formats}."),
)
_usage_patterns: list | None = None


def usage_message(text: str, _depth: int = 0) -> str:
    """A finished click usage-error message in the interface language (as it is in English)."""
    global _usage_patterns
    if _current == "en" or not text or _depth > 3:
        return text
    if _usage_patterns is None:
        import re

        field = re.compile(r"\{(\w+)\}")
        _usage_patterns = []
        for form in _USAGE_FORMS:
            parts = field.split(form)  # literal, name, literal, name, …, literal
            regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
            _usage_patterns.append((form, re.compile(regex, re.DOTALL)))
    for form, pattern in _usage_patterns:
        match = pattern.fullmatch(text)
        if match:
            fields = match.groupdict()
            if "message" in fields:
                fields["message"] = usage_message(fields["message"], _depth + 1)
            translated = _(form)
            try:
                return translated.format(**fields)
            except (KeyError, IndexError, ValueError):  # a translation with other fields: keep the English
                return text
    return text


def _usage_error_translated(rich_format_error):
    def show(error):
        format_message = error.format_message
        error.format_message = lambda: usage_message(format_message())
        try:
            return rich_format_error(error)
        finally:
            del error.format_message

    return show
