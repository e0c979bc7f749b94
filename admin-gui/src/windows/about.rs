//! Help → About Mailroom Administrator.

/// The About window.
#[derive(Debug, Default)]
pub struct AboutWindow {
    /// Shown.
    pub open: bool,
}

impl AboutWindow {
    /// The program's name, version and purpose.
    pub fn show(&mut self, ctx: &egui::Context) {
        egui::Window::new("About Mailroom Administrator").open(&mut self.open).collapsible(false).show(ctx, |ui| {
            ui.label(format!("Mailroom Administrator {}", env!("CARGO_PKG_VERSION")));
            ui.label("A mail server for small organisations, administered from the desktop.");
        });
    }
}
