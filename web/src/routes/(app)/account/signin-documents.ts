import { graphql } from '$lib/graphql/graphql';

// Sign-in settings of the account page: sessions, password, two-factor, passkeys.

export const SessionsQuery = graphql(`
  query Sessions {
    sessions {
      id
      current
      createdAt
      lastActiveAt
      userAgent
      device
      address
    }
  }
`);

export const RevokeSessionMutation = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)
  }
`);

export const TwoFactorQuery = graphql(`
  query TwoFactor {
    me {
      id
      totpEnabled
      recoveryCodesLeft
      adminNeedsTotp
    }
  }
`);

export const StartTotpSetupMutation = graphql(`
  mutation StartTotpSetup {
    startTotpSetup {
      secret
      uri
    }
  }
`);

export const ConfirmTotpMutation = graphql(`
  mutation ConfirmTotp($code: String!) {
    confirmTotp(code: $code)
  }
`);

export const RegenerateRecoveryCodesMutation = graphql(`
  mutation RegenerateRecoveryCodes($code: String!) {
    regenerateRecoveryCodes(code: $code)
  }
`);

export const DisableTotpMutation = graphql(`
  mutation DisableTotp($password: String!) {
    disableTotp(password: $password)
  }
`);

export const PasskeysQuery = graphql(`
  query Passkeys {
    passkeys {
      id
      name
      createdAt
      lastUsedAt
    }
  }
`);

export const StartPasskeyRegistrationMutation = graphql(`
  mutation StartPasskeyRegistration {
    startPasskeyRegistration
  }
`);

export const FinishPasskeyRegistrationMutation = graphql(`
  mutation FinishPasskeyRegistration($response: String!, $name: String) {
    finishPasskeyRegistration(response: $response, name: $name) {
      id
      name
    }
  }
`);

export const DeletePasskeyMutation = graphql(`
  mutation DeletePasskey($id: ID!) {
    deletePasskey(id: $id)
  }
`);
