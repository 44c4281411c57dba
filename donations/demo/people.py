"""Demo people: the shelter's profile, its staff accounts and its donors."""

from __future__ import annotations

from donations.models import Role

# Demo credentials are printed by `flask demo load` and listed in the README.
DEMO_USERS = [
    ("admin@example.org", "Ada Admin", Role.ADMIN.value, "admin-demo-pass"),
    ("treasurer@example.org", "Theo Treasurer", Role.TREASURER.value, "treasurer-demo-pass"),
    ("staff@example.org", "Sam Staff", Role.STAFF.value, "staff-demo-pass"),
]
# A partner agency's login (it sees only the agency's goods requests), and its agency.
DEMO_PARTNER = ("partner@example.org", "Pat Partner", Role.PARTNER.value, "partner-demo-pass")
DEMO_PARTNER_AGENCY = "Safe Passage clinic"

DEMO_ORGANIZATION = {
    "legal_name": "Harbor Light Shelter, Inc.",
    "tax_id": "12-3456789",
    "address_line1": "PO Box 4410",
    "address_line2": "",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "United States",
    "phone": "(217) 555-0142",
    "email": "giving@harborlight.example.org",
    "website": "harborlight.example.org",
    "signatory_name": "Maria Alvarez",
    "signatory_title": "Treasurer",
    "receipt_footer": (
        "Harbor Light Shelter is a 501(c)(3) public charity. Thank you for standing with survivors."
    ),
    "default_currency": "USD",
    "fiscal_year_start_month": 1,
}

DEMO_DONORS = [
    {"name": "Eleanor Whitfield", "email": "eleanor.whitfield@example.com",
     "address_line1": "18 Maple Row", "city": "Springfield", "region": "IL", "postal_code": "62704",
     "country": "United States", "notes": "Monthly supporter; prefers email."},
    {"name": "José Martínez", "email": "jose.martinez@example.com",
     "address_line1": "402 Oak Street", "city": "Chatham", "region": "IL", "postal_code": "62629",
     "country": "United States"},
    {"name": "Priya Raman", "email": "priya.raman@example.net",
     "address_line1": "77 Lakeview Dr", "city": "Springfield", "region": "IL",
     "postal_code": "62711", "country": "United States"},
    {"name": "Grace Community Church", "email": "outreach@gracechurch.example.org",
     "is_organization": True, "address_line1": "1200 Church St", "city": "Springfield",
     "region": "IL", "postal_code": "62703", "country": "United States",
     "notes": "Runs a winter coat drive every November; sends a cheque each quarter."},
    {"name": "Daniel O'Connor", "email": "dan.oconnor@example.com", "prefers_anonymous": True,
     "address_line1": "9 Birch Ct", "city": "Rochester", "region": "IL", "postal_code": "62563",
     "country": "United States", "notes": "Asked not to be named in the newsletter."},
    {"name": "Mei Chen", "email": "mei.chen@example.com",
     "address_line1": "55 Elm Ave", "address_line2": "Apt 3B", "city": "Springfield",
     "region": "IL", "postal_code": "62702", "country": "United States"},
    {"name": "Rotary Club of Springfield", "email": "service@rotary-spi.example.org",
     "is_organization": True, "address_line1": "300 Capitol Ave", "city": "Springfield",
     "region": "IL", "postal_code": "62701", "country": "United States",
     "notes": "Gives once a year from its service fund."},
    {"name": "Fatima Haddad", "email": "fatima.haddad@example.com",
     "address_line1": "21 Prairie Ln", "city": "Sherman", "region": "IL", "postal_code": "62684",
     "country": "United States"},
    {"name": "Björn Larsson", "email": "bjorn.larsson@example.se",
     "address_line1": "Storgatan 12", "city": "Uppsala", "postal_code": "753 20",
     "country": "Sweden"},
    {"name": "Hannah Brooks", "email": "hannah.brooks@example.com",
     "address_line1": "640 Wabash Ave", "city": "Springfield", "region": "IL",
     "postal_code": "62704", "country": "United States"},
    {"name": "Sunrise Market", "email": "manager@sunrisemarket.example.com",
     "is_organization": True, "address_line1": "88 S Grand Ave", "city": "Springfield",
     "region": "IL", "postal_code": "62703", "country": "United States",
     "notes": "Donates non-perishable food monthly."},
    {"name": "Marcus Johnson", "email": "marcus.j@example.com",
     "address_line1": "15 Cedar Blvd", "city": "Petersburg", "region": "IL",
     "postal_code": "62675", "country": "United States"},
    {"name": "Samuel Okafor", "email": "samuel.okafor@example.com",
     "address_line1": "230 Walnut St", "city": "Springfield", "region": "IL",
     "postal_code": "62704", "country": "United States"},
    {"name": "Ruth Feldman", "email": "ruth.feldman@example.com",
     "address_line1": "4 Orchard Way", "city": "Chatham", "region": "IL", "postal_code": "62629",
     "country": "United States"},
    {"name": "Olivia Park", "email": "olivia.park@example.com",
     "address_line1": "1508 S 6th St", "city": "Springfield", "region": "IL",
     "postal_code": "62703", "country": "United States"},
    {"name": "Lena Fischer", "email": "lena.fischer@example.com",
     "address_line1": "62 Hawthorne Pl", "city": "Springfield", "region": "IL",
     "postal_code": "62711", "country": "United States",
     "notes": "Bought a ticket to the spring benefit dinner."},
    {"name": "Tomás Reyes", "email": "tomas.reyes@example.com",
     "address_line1": "915 N 5th St", "city": "Springfield", "region": "IL",
     "postal_code": "62702", "country": "United States"},
]  # fmt: skip

# People who first gave online: the checkout adds them as donors (name and email only).
NEW_ONLINE_DONORS = {
    "Chris Doyle": "chris.doyle@example.com",
    "Aisha Bello": "aisha.bello@example.net",
    "Kevin Walsh": "kevin.walsh@example.com",
    "Nadia Petrova": "nadia.petrova@example.org",
}
