"""Leads (转介绍表): friends a member names who agreed to be contacted; staff work them; a sign-up that matches one
makes its submitter the referrer; unconverted contact details are erased after 180 days."""
