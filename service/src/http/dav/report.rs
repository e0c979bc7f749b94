//! The REPORTs: multiget, calendar-query (RFC 4791 §7.8, with expand), free-busy-query,
//! addressbook-query (RFC 6352 §8.6), sync-collection (RFC 6578); the principal search is the directory's (`directory.rs`).

use super::*;

impl Dav<'_> {
    pub(super) async fn report(&self, target: &Target, body: &[u8]) -> crate::store::StoreResult<Answer> {
        let Some(request) = xml::parse(body) else {
            return Ok(text(StatusCode::BAD_REQUEST, "The body is not well-formed XML."));
        };
        if request.is(DAV, "principal-property-search") {
            return self.principal_search(&request).await;
        }
        let (kind, coll) = match target {
            Target::Collection(kind, _, coll) => (*kind, coll),
            _ => return Ok(precondition(StatusCode::FORBIDDEN, DAV, "supported-report", "")),
        };
        let Some(c) = self.collection(kind, coll).await? else {
            return Ok(text(StatusCode::NOT_FOUND, "No such collection."));
        };
        let wanted = wanted(Some(&request));
        let href = collection_href(&c, &self.user.login);
        let mut out = xml::root_open("multistatus");
        // calendar-data with expand (RFC 4791 §9.6.5): the occurrences in its range.
        let expand = request
            .child(DAV, "prop")
            .and_then(|p| p.child(CALDAV, "calendar-data"))
            .and_then(|d| d.child(CALDAV, "expand"))
            .map(|e| (e.attribute("start").and_then(filter::utc_time), e.attribute("end").and_then(filter::utc_time)));
        let expand = match expand {
            Some((Some(start), Some(end))) if start < end => Some((start, end)),
            Some(_) => return Ok(text(StatusCode::BAD_REQUEST, "CALDAV:expand needs a start before its end, in UTC.")),
            None => None,
        };
        let push = |o: &DavObject, out: &mut String| {
            let info = ObjectInfo { name: o.name.clone(), etag: o.etag.clone(), sync: 0 };
            let expanded = expand.and_then(|(start, end)| objects::expand(&o.data, start, end));
            let data = expanded.as_deref().unwrap_or(&o.data);
            out.push_str(&self.response(
                &format!("{href}{}", encode(&o.name)),
                &Resource::Object(&c, &info, Some(data)),
                &wanted,
            ));
        };
        match (request.ns.as_str(), request.name.as_str()) {
            (CALDAV, "calendar-multiget") | (CARDDAV, "addressbook-multiget") => {
                let hrefs: Vec<String> =
                    request.children.iter().filter(|e| e.is(DAV, "href")).map(|e| e.text.trim().to_owned()).collect();
                let names: Vec<String> = hrefs.iter().filter_map(|h| h.strip_prefix(&href).and_then(decode)).collect();
                let found = self.get_objects(&c, names).await?;
                for h in &hrefs {
                    match found
                        .iter()
                        .find(|o| h.strip_prefix(&href).and_then(decode).as_deref() == Some(o.name.as_str()))
                    {
                        Some(o) => push(o, &mut out),
                        None => out.push_str(&format!(
                            "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>",
                            escape(h)
                        )),
                    }
                }
            }
            (CALDAV, "calendar-query") if kind == DavKind::Calendar => {
                let Some(filter) = request.child(CALDAV, "filter") else {
                    return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "valid-filter", ""));
                };
                let Some(filter) = filter.child(CALDAV, "comp-filter").and_then(filter::CompFilter::read) else {
                    return Ok(precondition(StatusCode::FORBIDDEN, CALDAV, "valid-filter", ""));
                };
                // The store narrows by the time range; the filter decides.
                let (_, (start, end)) = filter.narrowing();
                for o in self.ctx.store.dav_in_range(c.id, start, end).await? {
                    if filter.matches(&o.data) {
                        push(&o, &mut out);
                    }
                }
            }
            (CALDAV, "free-busy-query") if kind == DavKind::Calendar => {
                let range = request.child(CALDAV, "time-range");
                let at = |n: &str| range.and_then(|r| r.attribute(n)).and_then(filter::utc_time);
                let (Some(start), Some(end)) = (at("start"), at("end")) else {
                    return Ok(text(
                        StatusCode::BAD_REQUEST,
                        "A free-busy query needs a time range with a start and an end.",
                    ));
                };
                let mut periods = Vec::new();
                for o in self.ctx.store.dav_in_range(c.id, Some(start), Some(end)).await? {
                    periods.extend(objects::busy(&o.data, start, end));
                }
                let ics = schedule::vfreebusy(start, end, periods, "", "");
                return Ok(respond(StatusCode::OK, "text/calendar; charset=utf-8", ics));
            }
            (CARDDAV, "addressbook-query") if kind == DavKind::AddressBook => {
                let filter = request.child(CARDDAV, "filter");
                let infos = self.objects(&c).await?;
                for o in self.all_data(&c, &infos).await? {
                    if filter.is_none_or(|f| card_matches(f, &o.data)) {
                        push(&o, &mut out);
                    }
                }
            }
            (DAV, "sync-collection") => {
                let given = request.child(DAV, "sync-token").map(|t| t.text.trim().to_owned()).unwrap_or_default();
                let since = if given.is_empty() { Some(0) } else { token_number(&c, &given) };
                let Some(since) = since else {
                    return Ok(precondition(StatusCode::FORBIDDEN, DAV, "valid-sync-token", ""));
                };
                let changes = match self.changes(&c, since).await {
                    Ok(ch) => ch,
                    Err(crate::store::StoreError::Invalid { .. }) => {
                        return Ok(precondition(StatusCode::FORBIDDEN, DAV, "valid-sync-token", ""));
                    }
                    Err(e) => return Err(e),
                };
                // A limit (RFC 6578 §3.7) cuts the changes, oldest first, at a
                // checkpoint: the collection answers 507 and the token given is the
                // last change sent, from which the client asks again.
                let limit = request
                    .child(DAV, "limit")
                    .and_then(|l| l.child(DAV, "nresults"))
                    .map(|n| n.text.trim().parse::<usize>().ok());
                let limit = match limit {
                    Some(None) => return Ok(text(StatusCode::BAD_REQUEST, "DAV:nresults is not a number.")),
                    Some(Some(n)) => Some(n),
                    None => None,
                };
                let mut all: Vec<(u64, Option<&ObjectInfo>, &str)> = changes
                    .changed
                    .iter()
                    .map(|o| (o.sync, Some(o), o.name.as_str()))
                    .chain(changes.removed.iter().map(|(name, sync)| (*sync, None, name.as_str())))
                    .collect();
                all.sort_by_key(|(sync, _, _)| *sync);
                let mut token = changes.token;
                let truncated = limit.is_some_and(|n| all.len() > n);
                if let Some(n) = limit.filter(|_| truncated) {
                    all.truncate(n);
                    token = all.last().map_or(since, |(sync, _, _)| *sync);
                }
                let data = if wants_data(&wanted) {
                    let names = all.iter().filter(|(_, o, _)| o.is_some()).map(|(_, _, n)| (*n).to_owned()).collect();
                    self.get_objects(&c, names).await?
                } else {
                    Vec::new()
                };
                for (_, info, name) in &all {
                    let object_href = format!("{href}{}", encode(name));
                    match info {
                        Some(info) => {
                            let d = data.iter().find(|b| b.name == info.name).map(|b| b.data.as_slice());
                            out.push_str(&self.response(&object_href, &Resource::Object(&c, info, d), &wanted));
                        }
                        None => out.push_str(&format!(
                            "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>",
                            escape(&object_href)
                        )),
                    }
                }
                if truncated {
                    out.push_str(&format!(
                        "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status>\
                         <d:error><d:number-of-matches-within-limits/></d:error></d:response>",
                        escape(&href)
                    ));
                }
                let now = Collection { sync: token, ..c.clone() };
                out.push_str(&element(DAV, "sync-token", &escape(&sync_token(&now))));
            }
            _ => return Ok(precondition(StatusCode::FORBIDDEN, DAV, "supported-report", "")),
        }
        out.push_str("</d:multistatus>\n");
        Ok(multistatus(out))
    }
}

/// Whether a vCard passes an addressbook-query filter (RFC 6352 §10.5): its
/// prop-filters, any or all of them, each a text-match on a property's values.
pub(super) fn card_matches(filter: &Element, data: &[u8]) -> bool {
    let all = filter.attribute("test").is_some_and(|t| t.eq_ignore_ascii_case("allof"));
    let tests = filter.children.iter().filter(|e| e.is(CARDDAV, "prop-filter")).map(|pf| {
        let Some(property) = pf.attribute("name") else { return false };
        let values = objects::card_values(data, property);
        match pf.child(CARDDAV, "text-match") {
            None if pf.child(CARDDAV, "is-not-defined").is_some() => values.is_empty(),
            None => !values.is_empty(),
            Some(m) => {
                let wanted = m.text.trim().to_lowercase();
                let how = m.attribute("match-type").unwrap_or("contains");
                let hit = values.iter().any(|v| {
                    let v = v.to_lowercase();
                    match how {
                        "equals" => v == wanted,
                        "starts-with" => v.starts_with(&wanted),
                        "ends-with" => v.ends_with(&wanted),
                        _ => v.contains(&wanted),
                    }
                });
                hit != m.attribute("negate-condition").is_some_and(|n| n == "yes")
            }
        }
    });
    let results: Vec<bool> = tests.collect();
    if results.is_empty() {
        return true;
    }
    if all { results.iter().all(|r| *r) } else { results.iter().any(|r| *r) }
}
