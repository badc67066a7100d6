-- The identity-provider account a user signed in with: the issuer and its
-- "sub" claim, which the provider never reuses, unlike an e-mail address.
-- Once a user is bound to one, single sign-on finds the user by it, and an
-- account at the provider with the same address but another subject is
-- refused. NULL for users who never used single sign-on.
ALTER TABLE vigil_user ADD COLUMN external_subject TEXT;
CREATE UNIQUE INDEX vigil_user_external_subject ON vigil_user(external_subject);
