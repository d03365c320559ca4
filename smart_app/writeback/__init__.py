"""Write-back of the signed plan to the EHR, tiered by what the site allows (ARCHITECTURE §6)."""
