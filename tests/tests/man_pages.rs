//! The manual pages in `assets/man/`, which the Debian package installs (cargo-deb
//! gzips them into `usr/share/man/man1/`).
//!
//! Those of `mailroomd` and `mailroomctl` are generated from their clap definitions
//! (`mailroom_service::daemon::Args`, `client/src/bin/mailroomctl/args.rs`) by
//! clap_mangen, one page per program with every command of `mailroomctl` in it. They
//! are kept in the repository, so that packaging needs no build step of its own, and
//! this test fails when a command line changed and its page was not made again. Make
//! them again with
//!
//! ```sh
//! MAILROOM_WRITE_MAN_PAGES=1 cargo test --workspace --test man_pages
//! ```
//!
//! `mailroom-admin` reads its one option by hand, without clap, so its page is written
//! by hand; the test checks that it documents every option the program's usage names.

#[path = "../../client/src/bin/mailroomctl/args.rs"]
mod mailroomctl_args;

use std::path::{Path, PathBuf};

use clap::{Arg, Command, CommandFactory as _};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

/// Where the pages are kept.
fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/man")
}

/// The sections a program's clap definitions do not hold, in roff.
const MAILROOMD_MORE: &str = r#".SH SIGNALS
.TP
\fBSIGHUP\fR
Restart the Internet Mail Service with the saved configuration (what
\fBsystemctl reload mailroomd\fR sends).
.TP
\fBSIGTERM\fR, \fBSIGINT\fR
Stop: sessions in the middle of a transaction may finish within the drain timeout,
then the process exits.
.SH EXIT STATUS
0 after a stop by signal or a finished \fB\-\-restore\fR; 1 when it cannot start (the
data directory, its lock, the store or the control socket) or the restore failed.
.SH SEE ALSO
\fBmailroomctl\fR(1), \fBmailroom\-admin\fR(1)
"#;

const MAILROOMCTL_MORE: &str = r#".SH EXIT STATUS
.TP
0
Done.
.TP
1
The service refused (its message is printed).
.TP
2
The command line, or a file named on it, is wrong.
.TP
3
The service cannot be reached.
.PP
Output into a pipe whose reader has gone ends the program quietly, with 0.
.SH SEE ALSO
\fBmailroomd\fR(1), \fBmailroom\-admin\fR(1)
"#;

/// One program's page: its title; clap_mangen's name, synopsis and description; its
/// options; every command (depth first) with its own synopsis, description and
/// arguments; then `more`.
fn page(mut cmd: Command, more: &str) -> String {
    cmd.build();
    let man = Man::new(cmd.clone());
    let mut sections = Vec::new();
    let rendered = [Man::render_name_section, Man::render_synopsis_section, Man::render_description_section]
        .iter()
        .try_for_each(|render| render(&man, &mut sections));
    rendered.unwrap_or_else(|e| panic!("rendering into memory: {e}"));
    // clap_mangen starts each section with the same definition of `Aq` (the apostrophe
    // it writes): the page needs it once. And its title leaves an empty date out, which
    // shifts the source and manual into the date's place: the title is written here.
    let aq = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let name = cmd.get_name();
    let mut text = format!(
        "{aq}.TH {} 1 \"\" \"{name} {}\" Mailroom\n",
        name.to_uppercase(),
        cmd.get_version().unwrap_or_default()
    );
    text.push_str(&String::from_utf8_lossy(&sections).replace(aq, ""));
    let mut roff = Roff::new();
    roff.control("SH", ["OPTIONS"]);
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        argument_entry(&mut roff, arg);
    }
    if cmd.has_subcommands() {
        roff.control("SH", ["COMMANDS"]);
        for sub in visible_subcommands(&cmd) {
            command_entry(&mut roff, sub);
        }
    }
    text.push_str(&roff.to_roff());
    text.push_str(more);
    text
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// A command's own arguments: not the global ones (listed under OPTIONS) nor `--help`.
fn own_arguments(cmd: &Command) -> impl Iterator<Item = &Arg> {
    cmd.get_arguments().filter(|a| !a.is_hide_set() && !a.is_global_set() && a.get_id() != "help")
}

/// `cmd`'s synopsis as a subsection, its description, its arguments, then its own
/// commands.
fn command_entry(roff: &mut Roff, cmd: &Command) {
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name()).to_owned();
    let mut synopsis = vec![bold(name)];
    if own_arguments(cmd).any(|a| !a.is_positional()) {
        synopsis.push(roman(" [OPTIONS]"));
    }
    for arg in own_arguments(cmd).filter(|a| a.is_positional()) {
        let value = format!("<{}>", value_name(arg));
        synopsis.push(roman(" "));
        synopsis.push(italic(if arg.is_required_set() { value } else { format!("[{value}]") }));
    }
    if cmd.has_subcommands() {
        synopsis.push(roman(" "));
        synopsis.push(italic("<COMMAND>"));
    }
    roff.control("SS", []);
    roff.text(synopsis);
    if let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        paragraphs(roff, &about.to_string());
    }
    for arg in own_arguments(cmd) {
        argument_entry(roff, arg);
    }
    for sub in visible_subcommands(cmd) {
        command_entry(roff, sub);
    }
}

fn value_name(arg: &Arg) -> String {
    arg.get_value_names()
        .and_then(|v| v.first())
        .map(ToString::to_string)
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

fn takes_values(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

/// One argument as a tagged paragraph: how it is written, then its help, default and
/// possible values. A positional argument with nothing to say beyond the synopsis
/// gets none.
fn argument_entry(roff: &mut Roff, arg: &Arg) {
    let mut help = arg.get_long_help().or_else(|| arg.get_help()).map(|h| h.to_string()).unwrap_or_default();
    let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    let possible: Vec<String> =
        arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_owned()).collect();
    let mut sentence = |extra: String| {
        if !help.is_empty() && !help.ends_with('.') {
            help.push('.');
        }
        if !help.is_empty() {
            help.push(' ');
        }
        help.push_str(&extra);
    };
    if !defaults.is_empty() && takes_values(arg) {
        sentence(format!("Default: {}.", defaults.join(", ")));
    }
    if !possible.is_empty() && takes_values(arg) {
        sentence(format!("One of: {}.", possible.join(", ")));
    }
    if arg.is_positional() && help.is_empty() {
        return;
    }
    let mut tag = Vec::new();
    if arg.is_positional() {
        tag.push(italic(format!("<{}>", value_name(arg))));
    } else {
        if let Some(short) = arg.get_short() {
            tag.push(bold(format!("-{short}")));
            tag.push(roman(", "));
        }
        if let Some(long) = arg.get_long() {
            tag.push(bold(format!("--{long}")));
        }
        if takes_values(arg) {
            tag.push(roman(" "));
            tag.push(italic(format!("<{}>", value_name(arg))));
        }
    }
    roff.control("TP", []);
    roff.text(tag);
    paragraphs(roff, help.trim());
}

/// Text whose blank lines separate paragraphs, with `code` in bold.
fn paragraphs(roff: &mut Roff, text: &str) {
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        let words = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.matches('`').count() % 2 == 1 {
            roff.text([roman(words)]);
            continue;
        }
        let inlines: Vec<_> = words
            .split('`')
            .enumerate()
            .filter(|(_, part)| !part.is_empty())
            .map(|(i, part)| if i % 2 == 1 { bold(part) } else { roman(part) })
            .collect();
        roff.text(inlines);
    }
}

/// The generated pages, by file name.
fn generated() -> Vec<(&'static str, String)> {
    vec![
        ("mailroomd.1", page(mailroom_service::daemon::Args::command(), MAILROOMD_MORE)),
        ("mailroomctl.1", page(mailroomctl_args::Cli::command(), MAILROOMCTL_MORE)),
    ]
}

#[test]
fn the_man_pages_are_those_of_the_command_lines() {
    let write = std::env::var_os("MAILROOM_WRITE_MAN_PAGES").is_some();
    let mut stale = Vec::new();
    for (file, text) in generated() {
        let path = man_dir().join(file);
        if write {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "assets/man/{} differ from the command lines: make them again with \
         `MAILROOM_WRITE_MAN_PAGES=1 cargo test --workspace --test man_pages`",
        stale.join(", assets/man/")
    );
}

/// Regression guard for the one page written by hand: every option the program's
/// usage line names is documented.
#[test]
fn the_administrators_page_documents_every_option_it_takes() {
    let out = std::process::Command::new(mailroom_tests::bin("mailroom-admin")).arg("--help").output().expect("run");
    let usage = String::from_utf8_lossy(&out.stderr);
    let options: Vec<&str> =
        usage.split(|c: char| c.is_whitespace() || c == '[' || c == ']').filter(|w| w.starts_with("--")).collect();
    assert!(!options.is_empty(), "no options in the usage: {usage}");
    let page = std::fs::read_to_string(man_dir().join("mailroom-admin.1")).expect("mailroom-admin.1");
    for option in options {
        let escaped = option.replace('-', "\\-");
        assert!(page.contains(&format!("\\fB{escaped}\\fR")), "mailroom-admin.1 does not document {option}");
    }
}
