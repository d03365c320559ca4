// R11: the authorization request is too long for a URL, so it is POSTed; submit without a click.
document.getElementById("authorize-post").submit();
