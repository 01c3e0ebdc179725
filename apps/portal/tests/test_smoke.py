def test_home_in_chinese_for_volunteer(client_as, volunteer):
    response = client_as(volunteer).get("/")
    assert response.status_code == 200
    assert "王秀英" in response.content.decode()
