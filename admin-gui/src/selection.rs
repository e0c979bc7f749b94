//! A list view's selection, kept as a Windows list view keeps it: a focused row (where
//! the arrow keys move from, and what Properties opens), an anchor (where Shift
//! extends from) and the set of rows selected. A click selects one row, Ctrl+click adds
//! or takes away one, Shift+click selects the run from the anchor; Up, Down, Home,
//! End, Page Up and Page Down move (with Shift, extending), Ctrl+A selects every row,
//! and a letter selects the next row whose name starts with it.
//!
//! Rows are named by a key that outlives a refresh (an address, a queue id), not by
//! position: the list can change under the selection.

use std::collections::BTreeSet;

/// Rows a Page Up or Page Down moves by.
const PAGE: usize = 20;

/// The selection of one list.
#[derive(Debug, Clone)]
pub struct Selection<K> {
    focus: Option<K>,
    anchor: Option<K>,
    set: BTreeSet<K>,
}

impl<K> Default for Selection<K> {
    fn default() -> Selection<K> {
        Selection { focus: None, anchor: None, set: BTreeSet::new() }
    }
}

impl<K: Ord + Clone> Selection<K> {
    /// The focused row, if it is selected.
    pub fn focus(&self) -> Option<&K> {
        self.focus.as_ref().filter(|k| self.set.contains(k))
    }

    /// The one row selected, when exactly one is (what Properties acts on).
    pub fn single(&self) -> Option<&K> {
        if self.set.len() == 1 { self.set.iter().next() } else { None }
    }

    /// Whether `key`'s row is selected.
    pub fn contains(&self, key: &K) -> bool {
        self.set.contains(key)
    }

    /// How many rows are selected.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The rows selected, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.set.iter()
    }

    /// Selects `key`'s row alone.
    pub fn select_only(&mut self, key: K) {
        self.set.clear();
        self.set.insert(key.clone());
        self.focus = Some(key.clone());
        self.anchor = Some(key);
    }

    /// Selects nothing.
    pub fn clear(&mut self) {
        self.set.clear();
        self.focus = None;
        self.anchor = None;
    }

    /// Forgets the rows that no longer exist.
    pub fn retain(&mut self, exists: impl Fn(&K) -> bool) {
        self.set.retain(|k| exists(k));
        if self.focus.as_ref().is_some_and(|k| !exists(k)) {
            self.focus = None;
        }
        if self.anchor.as_ref().is_some_and(|k| !exists(k)) {
            self.anchor = None;
        }
    }

    /// Selects every row of `order` (Ctrl+A).
    pub fn select_all(&mut self, order: &[K]) {
        self.set = order.iter().cloned().collect();
        if self.focus.is_none() {
            self.focus = order.first().cloned();
            self.anchor.clone_from(&self.focus);
        }
    }

    /// A click on `key`'s row, `order` being the rows as shown: alone, with Ctrl (add
    /// or take away) or with Shift (the run from the anchor).
    pub fn click(&mut self, key: K, modifiers: egui::Modifiers, order: &[K]) {
        if modifiers.shift {
            self.extend_to(&key, order, modifiers.command);
        } else if modifiers.command {
            if !self.set.remove(&key) {
                self.set.insert(key.clone());
            }
            self.focus = Some(key.clone());
            self.anchor = Some(key);
        } else {
            self.select_only(key);
        }
    }

    /// Selects the run from the anchor to `key` (added to what is selected when
    /// `keep`); the focus moves to `key`, the anchor stays.
    fn extend_to(&mut self, key: &K, order: &[K], keep: bool) {
        let to = order.iter().position(|k| k == key);
        let from = self.anchor.as_ref().and_then(|a| order.iter().position(|k| k == a)).or(to);
        let (Some(from), Some(to)) = (from, to) else { return };
        if !keep {
            self.set.clear();
        }
        self.set.extend(order[from.min(to)..=from.max(to)].iter().cloned());
        self.focus = Some(key.clone());
        if self.anchor.is_none() {
            self.anchor = Some(order[from].clone());
        }
    }

    /// What a click on a row does to the selection: a click as [`Self::click`]; a
    /// double-click selects the row alone; a right-click on a row not selected selects
    /// it alone (on a selected one, its menu acts on the whole selection), and its
    /// menu's command keeps what it found.
    pub fn apply_click(&mut self, key: K, click: crate::widgets::RowClick, modifiers: egui::Modifiers, order: &[K]) {
        use crate::widgets::RowClick;
        match click {
            RowClick::Select => self.click(key, modifiers, order),
            RowClick::Open => self.select_only(key),
            RowClick::Menu(_) | RowClick::Secondary => {
                if !self.contains(&key) {
                    self.select_only(key);
                }
            }
        }
    }

    /// A key pressed in the list: the row the focus moved to, by index in `order`.
    pub fn key(&mut self, key: egui::Key, modifiers: egui::Modifiers, order: &[K]) -> Option<usize> {
        use egui::Key;
        let last = order.len().checked_sub(1)?;
        let at = self.focus.as_ref().and_then(|f| order.iter().position(|k| k == f));
        let to = match key {
            Key::ArrowDown => at.map_or(0, |a| (a + 1).min(last)),
            Key::ArrowUp => at.map_or(0, |a| a.saturating_sub(1)),
            Key::Home => 0,
            Key::End => last,
            Key::PageDown => at.map_or(0, |a| (a + PAGE).min(last)),
            Key::PageUp => at.map_or(0, |a| a.saturating_sub(PAGE)),
            _ => return None,
        };
        let row = order[to].clone();
        if modifiers.shift {
            self.extend_to(&row, order, false);
        } else {
            self.select_only(row);
        }
        Some(to)
    }

    /// A letter typed in the list: the next row after the focus whose name (by `name`)
    /// starts with it, selected alone; its index in `order`.
    pub fn type_ahead(&mut self, letter: char, order: &[K], name: impl Fn(&K) -> String) -> Option<usize> {
        let at = self.focus.as_ref().and_then(|f| order.iter().position(|k| k == f));
        let starts = |k: &K| name(k).chars().next().is_some_and(|c| c.to_lowercase().eq(letter.to_lowercase()));
        let n = order.len();
        let start = at.map_or(0, |a| a + 1);
        let to = (0..n).map(|i| (start + i) % n).find(|&i| starts(&order[i]))?;
        self.select_only(order[to].clone());
        Some(to)
    }

    /// Reads the keys meant for the list (when it has the keyboard: `active`, and no
    /// field is focused): moves, Ctrl+A, type-ahead. The index the focus moved to, to
    /// scroll it into view.
    pub fn input(&mut self, ui: &egui::Ui, active: bool, order: &[K], name: impl Fn(&K) -> String) -> Option<usize> {
        if !active || order.is_empty() || ui.memory(|m| m.focused().is_some()) {
            return None;
        }
        use egui::{Key, Modifiers};
        let moves = [Key::ArrowDown, Key::ArrowUp, Key::Home, Key::End, Key::PageDown, Key::PageUp];
        for key in moves {
            // Shift first: a plain key's match ignores an extra Shift.
            for modifiers in [Modifiers::SHIFT, Modifiers::NONE] {
                if ui.input_mut(|i| i.consume_key(modifiers, key)) {
                    return self.key(key, modifiers, order);
                }
            }
        }
        if ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::A)) {
            self.select_all(order);
            return None;
        }
        let letter = ui.input(|i| {
            i.events.iter().find_map(|e| match e {
                egui::Event::Text(t) if !i.modifiers.command && !i.modifiers.alt => {
                    t.chars().next().filter(char::is_ascii_alphanumeric)
                }
                _ => None,
            })
        });
        letter.and_then(|l| self.type_ahead(l, order, name))
    }
}

/// The modifiers held at this frame's click (the button's own event says; the frame's
/// modifiers may have changed since).
pub fn click_modifiers(ui: &egui::Ui) -> egui::Modifiers {
    ui.input(|i| {
        i.events
            .iter()
            .rev()
            .find_map(|e| match e {
                egui::Event::PointerButton { pressed: false, modifiers, .. } => Some(*modifiers),
                _ => None,
            })
            .unwrap_or(i.modifiers)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Key, Modifiers};

    fn order() -> Vec<&'static str> {
        vec!["ann", "bob", "carl", "cora", "dora"]
    }

    fn selected(s: &Selection<&'static str>) -> Vec<&'static str> {
        s.keys().copied().collect()
    }

    #[test]
    fn a_click_selects_one_ctrl_adds_and_takes_away_shift_selects_the_run() {
        let o = order();
        let mut s = Selection::default();
        s.click("bob", Modifiers::NONE, &o);
        assert_eq!(selected(&s), ["bob"]);
        assert_eq!(s.single(), Some(&"bob"));
        s.click("dora", Modifiers::COMMAND, &o);
        assert_eq!(selected(&s), ["bob", "dora"]);
        assert_eq!(s.single(), None, "two selected: no single one");
        s.click("bob", Modifiers::COMMAND, &o);
        assert_eq!(selected(&s), ["dora"]);
        s.click("bob", Modifiers::NONE, &o);
        s.click("cora", Modifiers::SHIFT, &o);
        assert_eq!(selected(&s), ["bob", "carl", "cora"]);
        // Shift again from the same anchor, the other way.
        s.click("ann", Modifiers::SHIFT, &o);
        assert_eq!(selected(&s), ["ann", "bob"]);
    }

    #[test]
    fn the_keys_move_and_shift_extends_and_ctrl_a_selects_all() {
        let o = order();
        let mut s = Selection::default();
        assert_eq!(s.key(Key::ArrowDown, Modifiers::NONE, &o), Some(0), "the first row, from nothing");
        assert_eq!(s.key(Key::ArrowDown, Modifiers::NONE, &o), Some(1));
        assert_eq!(s.key(Key::ArrowDown, Modifiers::SHIFT, &o), Some(2));
        assert_eq!(selected(&s), ["bob", "carl"]);
        assert_eq!(s.key(Key::End, Modifiers::NONE, &o), Some(4));
        assert_eq!(selected(&s), ["dora"]);
        assert_eq!(s.key(Key::ArrowDown, Modifiers::NONE, &o), Some(4), "stays on the last");
        assert_eq!(s.key(Key::PageUp, Modifiers::NONE, &o), Some(0));
        s.select_all(&o);
        assert_eq!(s.len(), 5);
        assert_eq!(s.key(Key::Tab, Modifiers::NONE, &o), None, "not a list key");
        assert_eq!(Selection::<&str>::default().key(Key::ArrowDown, Modifiers::NONE, &[]), None);
    }

    #[test]
    fn a_letter_selects_the_next_row_starting_with_it_and_goes_round() {
        let o = order();
        let mut s = Selection::default();
        let name = |k: &&str| k.to_uppercase();
        assert_eq!(s.type_ahead('c', &o, name), Some(2));
        assert_eq!(s.type_ahead('c', &o, name), Some(3), "the next one");
        assert_eq!(s.type_ahead('C', &o, name), Some(2), "round again");
        assert_eq!(s.type_ahead('z', &o, name), None);
        assert_eq!(selected(&s), ["carl"], "nothing found changes nothing");
    }

    #[test]
    fn rows_that_went_are_forgotten() {
        let o = order();
        let mut s = Selection::default();
        s.click("bob", Modifiers::NONE, &o);
        s.click("carl", Modifiers::SHIFT, &o);
        s.retain(|k| *k != "bob");
        assert_eq!(selected(&s), ["carl"]);
        assert_eq!(s.focus(), Some(&"carl"));
        s.retain(|_| false);
        assert!(s.is_empty() && s.focus().is_none());
    }
}
