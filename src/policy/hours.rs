//! Access hours in a site's time zone.
