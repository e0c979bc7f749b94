//! Help → Contents and F1: the help pages, a list of topics beside the page shown.

use crate::help::Topic;

/// The Help window.
#[derive(Debug)]
pub struct HelpWindow {
    /// Shown.
    pub open: bool,
    /// The page shown.
    pub topic: Topic,
}

impl Default for HelpWindow {
    fn default() -> HelpWindow {
        HelpWindow { open: false, topic: Topic::Contents }
    }
}

impl HelpWindow {
    /// Opens it on `topic`, in front.
    pub fn show_topic(&mut self, ctx: &egui::Context, topic: Topic) {
        self.topic = topic;
        self.open = true;
        ctx.move_to_top(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("Mailroom Help")));
    }

    /// The topics and the page.
    pub fn show(&mut self, ctx: &egui::Context) {
        let mut open = self.open;
        // Above the dialogs (which are modal): F1 in one brings its page in front of it,
        // and the page takes clicks there, as Windows Help did.
        egui::Window::new("Mailroom Help")
            .order(egui::Order::Foreground)
            .open(&mut open)
            .default_size([760.0, 500.0])
            .show(ctx, |ui| {
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        ui.set_width(190.0);
                        egui::ScrollArea::vertical().id_salt("help_topics").show(ui, |ui| {
                            for topic in Topic::ALL {
                                ui.selectable_value(&mut self.topic, topic, topic.title());
                            }
                        });
                    });
                    ui.separator();
                    ui.vertical(|ui| {
                        egui::ScrollArea::vertical().id_salt("help_page").show(ui, |ui| {
                            ui.set_max_width(500.0);
                            page(ui, self.topic.text());
                        });
                    });
                });
            });
        self.open &= open;
    }
}

/// Lays a page out: `# ` headings, `- ` list items, paragraphs between empty lines.
fn page(ui: &mut egui::Ui, text: &str) {
    for block in text.split("\n\n") {
        for line in block.lines() {
            if let Some(heading) = line.strip_prefix("# ") {
                ui.add_space(4.0);
                ui.heading(heading);
            } else if let Some(item) = line.strip_prefix("- ") {
                ui.horizontal_top(|ui| {
                    ui.label("•");
                    ui.add(egui::Label::new(item).wrap());
                });
            } else if !line.trim().is_empty() {
                ui.add(egui::Label::new(line).wrap());
            }
        }
        ui.add_space(6.0);
    }
}
