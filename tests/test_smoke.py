from donations.models import ORGANIZATION_ROLES, Role


def test_home_page_is_public(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_dashboard_per_role(login):
    for role in ORGANIZATION_ROLES:
        client = login(role)
        response = client.get("/dashboard")
        assert response.status_code == 200, role
        assert f"signed in as <strong>{role.value}".encode() in response.data
    # A partner agency's login has its requests page instead.
    assert login(Role.PARTNER).get("/dashboard").status_code == 403
