from donations.models import Role


def test_home_page_is_public(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_dashboard_per_role(login):
    for role in Role:
        client = login(role)
        response = client.get("/dashboard")
        assert response.status_code == 200, role
        assert f"signed in as <strong>{role.value}".encode() in response.data
